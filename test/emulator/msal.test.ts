import { ConfidentialClientApplication, PublicClientApplication, type Configuration } from '@azure/msal-node';
import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { call, startTestEmulator, useEmulator, type TestEmulator } from '../helpers/emulator.js';
import { undiciNetworkModule, type RecordingNetworkModule } from '../helpers/msalNetwork.js';

const env = useEmulator({ deviceCodeIntervalSeconds: 0.05 });
const GRAPH_DEFAULT = 'https://graph.microsoft.com/.default';
const PRESENCE_SCOPE = 'https://graph.microsoft.com/Presence.ReadWrite';

function msalConfig(t: TestEmulator, auth: Partial<Configuration['auth']> & { clientId: string }): { config: Configuration; network: RecordingNetworkModule } {
  const network = undiciNetworkModule(t.dispatcher);
  return {
    network,
    config: {
      auth: { authority: `${t.emulator.authorityHost}/${t.emulator.tenantId}`, knownAuthorities: [`127.0.0.1:${t.emulator.port}`], ...auth },
      system: { networkClient: network },
    },
  };
}

/** Every URL MSAL used and every request the emulator saw stayed on the emulator (loopback). */
function assertOffline(t: TestEmulator, network: RecordingNetworkModule): void {
  expect(network.urls.length).toBeGreaterThan(0);
  for (const url of network.urls) expect(url.startsWith(`${t.emulator.authorityHost}/`)).toBe(true);
  expect(network.urls.some((u) => u.includes('discovery/instance') || u.includes('microsoftonline'))).toBe(false);
}

async function rejection(promise: Promise<unknown>): Promise<{ errorCode?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { errorCode?: string; message: string };
  }
  throw new Error('expected a rejection');
}

describe('MSAL client credentials against the emulator', () => {
  it('gets an app token with a secret that Graph accepts, all offline', async () => {
    const t = env.current;
    const app = t.emulator.apps[0]!;
    const { config, network } = msalConfig(t, { clientId: app.clientId, clientSecret: app.clientSecret });
    const cca = new ConfidentialClientApplication(config);
    const result = await cca.acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT] });
    expect(result?.accessToken).toBeTruthy();
    const user = t.emulator.users[0]!;
    const res = await call(t, 'GET', `/v1.0/users/${user.id}/presence`, { token: result!.accessToken });
    expect(res.status).toBe(200);
    assertOffline(t, network);
    const identity = t.emulator.requestLog().filter((e) => e.kind === 'identity');
    expect(identity.map((e) => e.route)).toEqual([`/${t.emulator.tenantId}/v2.0/.well-known/openid-configuration`, `/${t.emulator.tenantId}/oauth2/v2.0/token`]);
    expect(identity[1]).toMatchObject({ appId: app.clientId, status: 200, body: { grant_type: 'client_credentials', scope: GRAPH_DEFAULT } });
    expect(JSON.stringify(t.emulator.requestLog())).not.toContain(app.clientSecret);
  });

  it('refuses a wrong secret with invalid_client / AADSTS7000215', async () => {
    const t = env.current;
    const { config, network } = msalConfig(t, { clientId: t.emulator.apps[0]!.clientId, clientSecret: 'not-the-secret' });
    const error = await rejection(new ConfidentialClientApplication(config).acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT] }));
    expect(error.errorCode).toBe('invalid_client');
    expect(error.message).toContain('AADSTS7000215');
    assertOffline(t, network);
    expect(t.emulator.requestLog().at(-1)).toMatchObject({ status: 401 });
  });

  it('refuses an unknown client with unauthorized_client / AADSTS700016', async () => {
    const t = env.current;
    const { config } = msalConfig(t, { clientId: '11111111-2222-3333-4444-555555555555', clientSecret: 'x' });
    const error = await rejection(new ConfidentialClientApplication(config).acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT] }));
    expect(error.errorCode).toBe('unauthorized_client');
    expect(error.message).toContain('AADSTS700016');
  });

  it('accepts a certificate assertion (SHA-256 thumbprint, PS256) and (SHA-1 thumbprint, RS256)', async () => {
    const t = env.current;
    const app = t.emulator.apps[0]!;
    const cert = app.certificate!;
    for (const clientCertificate of [
      { thumbprintSha256: cert.thumbprintSha256, privateKey: cert.privateKeyPem },
      { thumbprint: cert.thumbprint, privateKey: cert.privateKeyPem },
    ]) {
      const { config, network } = msalConfig(t, { clientId: app.clientId, clientCertificate });
      const result = await new ConfidentialClientApplication(config).acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT] });
      expect(result?.accessToken).toBeTruthy();
      assertOffline(t, network);
    }
  });

  it('refuses an assertion signed by another key with invalid_client / AADSTS700027', async () => {
    const t = env.current;
    const app = t.emulator.apps[0]!;
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const { config } = msalConfig(t, { clientId: app.clientId, clientCertificate: { thumbprintSha256: app.certificate!.thumbprintSha256, privateKey: other } });
    const error = await rejection(new ConfidentialClientApplication(config).acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT] }));
    expect(error.errorCode).toBe('invalid_client');
    expect(error.message).toContain('AADSTS700027');
  });
});

describe('MSAL device code against the emulator', () => {
  it('polls through authorization_pending until approved, then refreshes with the refresh token', async () => {
    const t = env.current;
    const app = t.emulator.apps[0]!;
    const user = t.emulator.users[1]!;
    const { config, network } = msalConfig(t, { clientId: app.clientId });
    const pca = new PublicClientApplication(config);
    let message = '';
    const result = await pca.acquireTokenByDeviceCode({
      scopes: [PRESENCE_SCOPE],
      deviceCodeCallback: (response) => {
        message = response.message;
        // Approve through the control route once the emulator has answered authorization_pending at least once.
        const approveWhenPending = async (): Promise<void> => {
          while (!t.emulator.requestLog().some((e) => e.status === 400 && e.body && (e.body as { grant_type?: string }).grant_type?.endsWith('device_code'))) {
            await new Promise((r) => setImmediate(r));
          }
          const res = await call(t, 'POST', '/_emulator/devicecode/approve', { json: { user_code: response.userCode, userId: user.userPrincipalName } });
          expect(res.status).toBe(200);
        };
        void approveWhenPending();
      },
    });
    expect(message).toContain(`${t.emulator.authorityHost}/devicelogin`);
    expect(result?.account?.username).toBe(user.userPrincipalName);
    expect(result?.account?.homeAccountId).toBe(`${user.id}.${t.emulator.tenantId}`);
    expect(result?.idTokenClaims).toMatchObject({ oid: user.id, tid: t.emulator.tenantId, name: user.displayName });

    const me = await call(t, 'GET', '/v1.0/me/presence', { token: result!.accessToken });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(user.id);
    const set = await call(t, 'POST', '/v1.0/me/presence/setPresence', {
      token: result!.accessToken,
      json: { sessionId: app.clientId, availability: 'Busy', activity: 'InACall', expirationDuration: 'PT10M' },
    });
    expect(set.status).toBe(200);
    expect(t.emulator.presenceOf(user.id)).toEqual({ availability: 'Busy', activity: 'InACall' });

    // The access token expires on the emulator clock; a forced silent call redeems the refresh token.
    await t.clock.advance(3601_000);
    expect((await call(t, 'GET', '/v1.0/me/presence', { token: result!.accessToken })).status).toBe(401);
    const [account] = await pca.getTokenCache().getAllAccounts();
    const refreshed = await pca.acquireTokenSilent({ account: account!, scopes: [PRESENCE_SCOPE], forceRefresh: true });
    expect(refreshed.accessToken).not.toBe(result!.accessToken);
    expect((await call(t, 'GET', '/v1.0/me/presence', { token: refreshed.accessToken })).status).toBe(200);
    const grants = t.emulator.requestLog().filter((e) => e.route.endsWith('/token')).map((e) => [(e.body as { grant_type: string }).grant_type, e.status]);
    expect(grants.filter(([, s]) => s === 400).length).toBeGreaterThanOrEqual(1);
    expect(grants.at(-1)).toEqual(['refresh_token', 200]);
    assertOffline(t, network);
  });

  it('ends with expired_token when the code outlives its 15 minutes', async () => {
    const t = env.current;
    const { config } = msalConfig(t, { clientId: t.emulator.apps[0]!.clientId });
    const error = await rejection(
      new PublicClientApplication(config).acquireTokenByDeviceCode({
        scopes: [PRESENCE_SCOPE],
        deviceCodeCallback: () => {
          void t.clock.advance(16 * 60_000);
        },
      }),
    );
    expect(error.message).toContain('expired_token');
  });

  it('ends with authorization_declined when the user declines', async () => {
    const t = env.current;
    const { config } = msalConfig(t, { clientId: t.emulator.apps[0]!.clientId });
    const error = await rejection(
      new PublicClientApplication(config).acquireTokenByDeviceCode({
        scopes: [PRESENCE_SCOPE],
        deviceCodeCallback: (r) => t.emulator.declineDeviceCode(r.userCode),
      }),
    );
    expect(error.message).toContain('authorization_declined');
  });

  it('refuses device code for an app without public client flows (AADSTS7000218)', async () => {
    const t = env.current;
    const { config } = msalConfig(t, { clientId: t.emulator.apps[1]!.clientId });
    const error = await rejection(
      new PublicClientApplication(config).acquireTokenByDeviceCode({
        scopes: ['https://graph.microsoft.com/User.Read'],
        deviceCodeCallback: (r) => t.emulator.approveDeviceCode(r.userCode, t.emulator.users[0]!.id),
      }),
    );
    expect(error.message).toContain('invalid_client');
  });
});

describe('short token lifetimes make MSAL refresh', () => {
  it('a 60 s lifetime is below MSAL\'s 5-minute margin: every silent call redeems the refresh token', async () => {
    const t = await startTestEmulator({ tokenLifetimeSeconds: 60, deviceCodeIntervalSeconds: 0.05 });
    try {
      const app = t.emulator.apps[0]!;
      const { config, network } = msalConfig(t, { clientId: app.clientId });
      const pca = new PublicClientApplication(config);
      const first = await pca.acquireTokenByDeviceCode({
        scopes: [PRESENCE_SCOPE],
        deviceCodeCallback: (r) => t.emulator.approveDeviceCode(r.userCode, t.emulator.users[0]!.id),
      });
      expect(first?.expiresOn).toBeTruthy();
      const [account] = await pca.getTokenCache().getAllAccounts();
      const second = await pca.acquireTokenSilent({ account: account!, scopes: [PRESENCE_SCOPE] });
      expect(second.accessToken).not.toBe(first!.accessToken);
      const grants = t.emulator.requestLog().filter((e) => e.route.endsWith('/token')).map((e) => (e.body as { grant_type: string }).grant_type);
      expect(grants).toEqual(['device_code', 'refresh_token']);
      assertOffline(t, network);
    } finally {
      await t.close();
    }
  });
});

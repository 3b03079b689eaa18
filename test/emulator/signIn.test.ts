import { constants, createPublicKey, sign, verify, type JsonWebKeyInput, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { startEmulator } from '../../src/emulator/index.js';
import { call, formBody, useEmulator, type TestEmulator } from '../helpers/emulator.js';

const env = useEmulator();

function token(t: TestEmulator, values: Record<string, string>, tenant = t.emulator.tenantId, headers: Record<string, string> = {}) {
  const f = formBody(values);
  return call(t, 'POST', `/${tenant}/oauth2/v2.0/token`, { headers: { ...f.headers, ...headers }, body: f.body });
}

function decode(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('OpenID configuration', () => {
  it('points every endpoint at the emulator, per tenant id, domain and organizations', async () => {
    const t = env.current;
    for (const tenant of [t.emulator.tenantId, 'contoso.example', 'organizations']) {
      const res = await call(t, 'GET', `/${tenant}/v2.0/.well-known/openid-configuration`);
      expect(res.status).toBe(200);
      for (const key of ['token_endpoint', 'device_authorization_endpoint', 'authorization_endpoint', 'jwks_uri']) {
        expect(res.body[key]).toMatch(new RegExp(`^${t.emulator.authorityHost}/${tenant}/`));
      }
      expect(res.body.issuer.startsWith(`${t.emulator.authorityHost}/`)).toBe(true);
    }
    const keys = await call(t, 'GET', `/${t.emulator.tenantId}/discovery/v2.0/keys`);
    expect(keys.body.keys[0]).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256' });
  });

  it('refuses an unknown tenant with AADSTS90002', async () => {
    const t = env.current;
    const res = await call(t, 'GET', '/not-a-tenant/v2.0/.well-known/openid-configuration');
    expect(res.status).toBe(400);
    expect(res.body.error_codes).toEqual([90002]);
  });
});

describe('token endpoint', () => {
  it('issues app tokens carrying appid, tid, roles and exp; secret by post or basic auth', async () => {
    const t = env.current;
    const app = t.emulator.apps[0]!;
    const posted = await token(t, { grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret, scope: 'https://graph.microsoft.com/.default' });
    expect(posted.status).toBe(200);
    expect(posted.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, ext_expires_in: 3600 });
    const claims = decode(posted.body.access_token);
    expect(claims).toMatchObject({ appid: app.clientId, azp: app.clientId, tid: t.emulator.tenantId, roles: ['Presence.ReadWrite.All', 'User.ReadBasic.All'], aud: 'https://graph.microsoft.com', exp: t.clock.now() / 1000 + 3600 });
    const basic = Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64');
    const viaBasic = await token(t, { grant_type: 'client_credentials', scope: '00000003-0000-0000-c000-000000000000/.default' }, t.emulator.tenantId, { authorization: `Basic ${basic}` });
    expect(viaBasic.status).toBe(200);
    const noRoles = await token(t, { grant_type: 'client_credentials', client_id: t.emulator.apps[1]!.clientId, client_secret: t.emulator.apps[1]!.clientSecret, scope: 'https://graph.microsoft.com/.default' });
    expect(decode(noRoles.body.access_token).roles).toBeUndefined();
  });

  it.each([
    ['wrong secret', { grant_type: 'client_credentials', client_id: 'APP', client_secret: 'nope', scope: 'https://graph.microsoft.com/.default' }, 401, 'invalid_client', 7000215],
    ['unknown client', { grant_type: 'client_credentials', client_id: '00000000-1111-2222-3333-444444444444', client_secret: 'x', scope: 'https://graph.microsoft.com/.default' }, 400, 'unauthorized_client', 700016],
    ['no credential', { grant_type: 'client_credentials', client_id: 'APP', scope: 'https://graph.microsoft.com/.default' }, 401, 'invalid_client', 7000218],
    ['no grant_type', { client_id: 'APP', client_secret: 'SECRET' }, 400, 'invalid_request', 900144],
    ['an unsupported grant', { grant_type: 'password', client_id: 'APP', client_secret: 'SECRET' }, 400, 'unsupported_grant_type', 70003],
    ['a scope without /.default', { grant_type: 'client_credentials', client_id: 'APP', client_secret: 'SECRET', scope: 'https://graph.microsoft.com/Presence.ReadWrite.All' }, 400, 'invalid_scope', 1002012],
    ['another resource', { grant_type: 'client_credentials', client_id: 'APP', client_secret: 'SECRET', scope: 'https://management.azure.com/.default' }, 400, 'invalid_resource', 500011],
    ['an unknown refresh token', { grant_type: 'refresh_token', client_id: 'APP', refresh_token: 'nope', scope: 'openid' }, 400, 'invalid_grant', 9002313],
    ['an unknown device code', { grant_type: 'device_code', client_id: 'APP', device_code: 'nope' }, 400, 'invalid_grant', 70000],
  ])('refuses %s as Entra does', async (_name, values, status, error, code) => {
    const t = env.current;
    const app = t.emulator.apps[0]!;
    const filled = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v === 'APP' ? app.clientId : v === 'SECRET' ? app.clientSecret : v]));
    const res = await token(t, filled);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ error, error_codes: [code] });
    expect(res.body.error_description).toMatch(new RegExp(`^AADSTS${code}: `));
    expect(res.body.trace_id).toBeTruthy();
  });

  it('device code: pending, approved (delegated token with scp, oid, id_token, client_info), then refresh', async () => {
    const t = env.current;
    const app = t.emulator.apps[0]!;
    const user = t.emulator.users[2]!;
    const f = formBody({ client_id: app.clientId, scope: 'https://graph.microsoft.com/Presence.ReadWrite openid profile offline_access' });
    const code = await call(t, 'POST', `/${t.emulator.tenantId}/oauth2/v2.0/devicecode`, f);
    expect(code.body).toMatchObject({ expires_in: 900, interval: 5, verification_uri: `${t.emulator.authorityHost}/devicelogin` });
    expect(code.body.user_code).toMatch(/^[A-Z0-9]{9}$/);
    const redeem = () => token(t, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: app.clientId, device_code: code.body.device_code });
    const pending = await redeem();
    expect(pending.status).toBe(400);
    expect(pending.body).toMatchObject({ error: 'authorization_pending', error_codes: [70016] });
    const page = await call(t, 'POST', '/devicelogin', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `user_code=${code.body.user_code.toLowerCase()}&user=${user.id}` });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Signed in');
    const done = await redeem();
    expect(done.status).toBe(200);
    expect(done.body.scope).toBe('https://graph.microsoft.com/Presence.ReadWrite openid profile offline_access');
    expect(decode(done.body.access_token)).toMatchObject({ scp: 'Presence.ReadWrite User.Read', oid: user.id, appid: app.clientId, tid: t.emulator.tenantId });
    expect(decode(done.body.id_token)).toMatchObject({ oid: user.id, tid: t.emulator.tenantId, preferred_username: user.userPrincipalName, name: user.displayName, aud: app.clientId });
    expect(JSON.parse(Buffer.from(done.body.client_info, 'base64url').toString())).toEqual({ uid: user.id, utid: t.emulator.tenantId });
    expect((await redeem()).body.error).toBe('invalid_grant');
    const refreshed = await token(t, { grant_type: 'refresh_token', client_id: app.clientId, refresh_token: done.body.refresh_token, scope: 'https://graph.microsoft.com/Presence.ReadWrite openid offline_access' });
    expect(refreshed.status).toBe(200);
    expect(decode(refreshed.body.access_token).oid).toBe(user.id);
    await t.clock.advance(91 * 86_400_000);
    const stale = await token(t, { grant_type: 'refresh_token', client_id: app.clientId, refresh_token: done.body.refresh_token });
    expect(stale.body).toMatchObject({ error: 'invalid_grant', error_codes: [700082] });
  });

  it('device code: a scope the app was not consented for is invalid_grant AADSTS65001', async () => {
    const t = env.current;
    const app = t.emulator.apps[0]!;
    const code = await call(t, 'POST', `/${t.emulator.tenantId}/oauth2/v2.0/devicecode`, formBody({ client_id: app.clientId, scope: 'https://graph.microsoft.com/Mail.Read' }));
    t.emulator.approveDeviceCode(code.body.user_code, t.emulator.users[0]!.id);
    const res = await token(t, { grant_type: 'device_code', client_id: app.clientId, device_code: code.body.device_code });
    expect(res.body).toMatchObject({ error: 'invalid_grant', error_codes: [65001] });
  });
});

describe('scaled time', () => {
  it('reports token lifetimes in real seconds and lets the control route move its own clock', async () => {
    const emulator = await startEmulator({ timeScale: 60 });
    const dispatcher = new Agent({ connect: { ca: emulator.caCert } });
    const t = { emulator, dispatcher } as unknown as TestEmulator;
    try {
      const app = emulator.apps[0]!;
      const res = await token(t, { grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret, scope: 'https://graph.microsoft.com/.default' });
      expect(res.body.expires_in).toBe(60);
      const claims = decode(res.body.access_token);
      expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
      const before = emulator.clock.now();
      const moved = await call(t, 'POST', '/_emulator/time', { json: { advance: 'PT2H' } });
      expect(moved.status).toBe(200);
      expect(emulator.clock.now() - before).toBeGreaterThanOrEqual(2 * 3_600_000);
      const graph = await call(t, 'GET', `/v1.0/users/${emulator.users[0]!.id}/presence`, { token: res.body.access_token });
      expect(graph.status).toBe(401);
    } finally {
      await dispatcher.close();
      await emulator.close();
    }
  });

  it('refuses to move an external clock', async () => {
    const t = env.current;
    const res = await call(t, 'POST', '/_emulator/time', { json: { advanceSeconds: 60 } });
    expect(res.status).toBe(409);
    expect(() => t.emulator.advanceTime(1000)).toThrow();
  });
});

describe('certificate client assertions (private_key_jwt)', () => {
  function assertion(t: TestEmulator, overrides: Record<string, unknown>, alg: 'RS256' | 'PS256' = 'RS256'): string {
    const app = t.emulator.apps[0]!;
    const cert = app.certificate!;
    const now = Math.floor(Date.now() / 1000);
    const header = { alg, typ: 'JWT', 'x5t#S256': Buffer.from(cert.thumbprintSha256, 'hex').toString('base64url') };
    const payload = { aud: `${t.emulator.authorityHost}/${t.emulator.tenantId}/oauth2/v2.0/token`, iss: app.clientId, sub: app.clientId, jti: 'j1', nbf: now, exp: now + 600, ...overrides };
    const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    const key = alg === 'PS256' ? { key: cert.privateKeyPem, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : cert.privateKeyPem;
    return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
  }

  const redeem = (t: TestEmulator, jwt: string) =>
    token(t, {
      grant_type: 'client_credentials',
      client_id: t.emulator.apps[0]!.clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: jwt,
      scope: 'https://graph.microsoft.com/.default',
    });

  /** Verifies a compact JWT's signature with `key` under `alg`, by node:crypto directly. */
  function verifiesAs(jwt: string, key: KeyObject, alg: 'RS256' | 'PS256'): boolean {
    const [h, p, sig] = jwt.split('.');
    const input = Buffer.from(`${h}.${p}`);
    const signature = Buffer.from(sig!, 'base64url');
    return alg === 'PS256'
      ? verify('sha256', input, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, signature)
      : verify('sha256', input, key, signature);
  }
  const headerOf = (jwt: string): Record<string, unknown> => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;

  it.each(['RS256', 'PS256'] as const)(
    'accepts a valid %s assertion (its header names the alg its signature verifies with) and answers with an RS256 token signed by the published key',
    async (alg) => {
      const t = env.current;
      const jwt = assertion(t, {}, alg);
      const certKey = createPublicKey(t.emulator.apps[0]!.certificate!.certPem);
      expect(headerOf(jwt).alg).toBe(alg);
      expect(verifiesAs(jwt, certKey, alg)).toBe(true);
      expect(verifiesAs(jwt, certKey, alg === 'RS256' ? 'PS256' : 'RS256')).toBe(false); // the two algs are not interchangeable

      const res = await redeem(t, jwt);
      expect(res.status).toBe(200);
      const accessToken = res.body.access_token as string;
      const keys = await call(t, 'GET', `/${t.emulator.tenantId}/discovery/v2.0/keys`);
      const jwk = keys.body.keys[0] as { kid: string; alg: string };
      expect(headerOf(accessToken)).toMatchObject({ typ: 'JWT', alg: 'RS256', kid: jwk.kid });
      const published = createPublicKey({ key: jwk as unknown as JsonWebKeyInput['key'], format: 'jwk' });
      expect(verifiesAs(accessToken, published, 'RS256')).toBe(true);
      expect(verifiesAs(accessToken, certKey, 'RS256')).toBe(false); // signed by the emulator's key, not the app's
    },
  );

  it.each([
    ['a header naming PS256 over an RS256 signature', 'RS256', 'PS256'],
    ['a header naming RS256 over a PS256 signature', 'PS256', 'RS256'],
    ['alg none', 'RS256', 'none'],
    ['HS256 (a symmetric alg keyed with public data)', 'RS256', 'HS256'],
  ] as const)('refuses %s with invalid_client', async (_name, signedWith, claimed) => {
    const t = env.current;
    const [, p, sig] = assertion(t, {}, signedWith).split('.');
    const cert = t.emulator.apps[0]!.certificate!;
    const header = Buffer.from(JSON.stringify({ alg: claimed, typ: 'JWT', 'x5t#S256': Buffer.from(cert.thumbprintSha256, 'hex').toString('base64url') })).toString('base64url');
    const res = await redeem(t, `${header}.${p}.${claimed === 'none' ? '' : sig}`);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'invalid_client' });
  });

  it.each([
    ['another audience', { aud: 'https://login.microsoftonline.com/x/oauth2/v2.0/token' }, 700212],
    ['another issuer', { iss: 'someone-else' }, 700023],
    ['an expired assertion', { exp: Math.floor(Date.now() / 1000) - 3600, nbf: Math.floor(Date.now() / 1000) - 7200 }, 700024],
  ])('refuses %s with invalid_client', async (_name, overrides, code) => {
    const t = env.current;
    const res = await redeem(t, assertion(t, overrides));
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'invalid_client', error_codes: [code] });
  });

  it('refuses a tampered assertion', async () => {
    const t = env.current;
    const [h, , s] = assertion(t, {}).split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ aud: 'x', iss: 'y', sub: 'y', exp: 9e9 })).toString('base64url');
    const res = await redeem(t, `${h}.${forgedPayload}.${s}`);
    expect(res.body).toMatchObject({ error: 'invalid_client', error_codes: [700027] });
  });
});

import { readFile, stat, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { createGraphStack, GraphConfigError, GraphError, TOKEN_CACHE_FILE, type DeviceCodePrompt, type GraphStack } from '../../src/graph/index.js';
import { ManualClock, systemClock } from '../../src/shared/clock.js';
import { configFor, tempDir } from './helpers.js';
import { capturingLogger } from '../helpers/logger.js';

async function signIn(emulator: Emulator, stack: GraphStack, userIndex = 0): Promise<DeviceCodePrompt> {
  let prompt: DeviceCodePrompt | undefined;
  const account = await stack.tokens.login((p) => {
    prompt = p;
    emulator.approveDeviceCode(p.userCode, emulator.users[userIndex]!.id);
  });
  expect(account.username).toBe(emulator.users[userIndex]!.userPrincipalName);
  return prompt!;
}

describe('delegated mode: device code sign-in, cached refresh token, silent refresh', () => {
  let emulator: Emulator;
  let clock: ManualClock;
  let storage: { path: string; remove(): Promise<void> };
  const stacks: GraphStack[] = [];
  const open = (logger = capturingLogger()) => {
    const stack = createGraphStack(configFor(emulator, { auth: { mode: 'delegated', clientSecret: undefined } }), { logger, clock, storagePath: storage.path });
    stacks.push(stack);
    return stack;
  };

  beforeAll(async () => {
    clock = new ManualClock(Date.now());
    emulator = await startEmulator({ clock, deviceCodeIntervalSeconds: 1, tokenLifetimeSeconds: 3600 });
    storage = await tempDir();
  });
  afterAll(async () => {
    for (const s of stacks) await s.close();
    await emulator.close();
    await storage.remove();
  });

  it('asks to sign in when nothing is cached', async () => {
    const stack = open();
    const error = await stack.client.setPresence(emulator.users[0]!.id, { availability: 'Busy', activity: 'InACall' }, 'PT1H').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphError);
    expect(error).toMatchObject({ code: 'SIGN_IN_REQUIRED', retryable: false });
    expect((error as GraphError).hint).toContain('presence-bridge login');
  });

  it('signs in with a device code and writes the cache with mode 0600', async () => {
    const stack = open();
    const prompt = await signIn(emulator, stack);
    expect(prompt.verificationUri).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//);
    expect(prompt.userCode).toMatch(/\S/);
    const file = join(storage.path, TOKEN_CACHE_FILE);
    expect(stack.tokens.cacheFile).toBe(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toHaveProperty('RefreshToken');
    // No discovery: every sign-in request went to the tenant's token or devicecode endpoint.
    const identity = emulator.requestLog().filter((e) => e.kind === 'identity').map((e) => e.path);
    expect(identity.every((p) => p === `/${emulator.tenantId}/oauth2/v2.0/devicecode` || p === `/${emulator.tenantId}/oauth2/v2.0/token`)).toBe(true);
  });

  it('does every operation as the signed-in user, from a new process reading the cache', async () => {
    const stack = open();
    const user = emulator.users[0]!;
    expect((await stack.tokens.account())?.username).toBe(user.userPrincipalName);
    emulator.clearRequestLog();
    await stack.client.setPresence(user.id, { availability: 'Busy', activity: 'InACall' }, 'PT1H');
    expect(emulator.requestLog().find((e) => e.route.endsWith('/setPresence'))?.body).toMatchObject({ sessionId: emulator.apps[0]!.clientId });
    expect(await stack.client.getPresence(user.id)).toMatchObject({ availability: 'Busy', activity: 'InACall' });
    await stack.client.setUserPreferredPresence(user.id, { availability: 'BeRightBack', activity: 'BeRightBack' });
    expect(emulator.preferredOf(user.id)).toMatchObject({ availability: 'BeRightBack' });
    await stack.client.clearUserPreferredPresence(user.id);
    expect(emulator.preferredOf(user.id)).toBeNull();
    expect(await stack.client.clearPresence(user.id)).toBe('cleared');
    expect(await stack.client.clearPresence(user.id)).toBe('already-cleared');
    // The refresh token was redeemed silently: no device code this time.
    expect(emulator.requestLog().some((e) => e.path.endsWith('/devicecode'))).toBe(false);
  });

  it('refreshes silently with the refresh token when the access token expires mid-run', async () => {
    const stack = open();
    const user = emulator.users[0]!;
    await stack.client.setPresence(user.id, { availability: 'Busy', activity: 'InACall' }, 'PT1H');
    emulator.clearRequestLog();
    await clock.advance(3601_000);
    await stack.client.setPresence(user.id, { availability: 'Away', activity: 'Away' }, 'PT1H');
    const log = emulator.requestLog();
    expect(log.filter((e) => e.kind === 'graph').map((e) => e.status)).toEqual([401, 200]);
    expect(log.filter((e) => e.kind === 'identity').map((e) => [(e.body as { grant_type?: string } | undefined)?.grant_type, e.status])).toEqual([['refresh_token', 200]]);
    expect((await stat(join(storage.path, TOKEN_CACHE_FILE))).mode & 0o777).toBe(0o600);
  });

  it('puts the cache file back to 0600 on every write', async () => {
    const file = join(storage.path, TOKEN_CACHE_FILE);
    await chmod(file, 0o644);
    const stack = open();
    await clock.advance(3601_000);
    await stack.client.getPresence(emulator.users[0]!.id);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('a second login replaces the cached account', async () => {
    const stack = open();
    await signIn(emulator, stack, 1);
    const again = open();
    expect((await again.tokens.account())?.username).toBe(emulator.users[1]!.userPrincipalName);
    const cache = JSON.parse(await readFile(join(storage.path, TOKEN_CACHE_FILE), 'utf8')) as { Account: Record<string, unknown> };
    expect(Object.keys(cache.Account)).toHaveLength(1);
  });

  it('a refused refresh token means sign in again', async () => {
    const file = join(storage.path, TOKEN_CACHE_FILE);
    const cache = JSON.parse(await readFile(file, 'utf8')) as { RefreshToken: Record<string, { secret: string }>; AccessToken: Record<string, unknown> };
    for (const entry of Object.values(cache.RefreshToken)) entry.secret = 'revoked';
    cache.AccessToken = {};
    await writeFile(file, JSON.stringify(cache));
    const stack = open();
    const error = await stack.client.getPresence(emulator.users[1]!.id).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SIGN_IN_REQUIRED' });
    expect((error as GraphError).hint).toContain('presence-bridge login');
  });

  it('a declined device code fails the login', async () => {
    const stack = open();
    const error = await stack.tokens.login((p) => emulator.declineDeviceCode(p.userCode)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SIGN_IN_REQUIRED', message: 'the sign-in was declined' });
  });

  it('an app without public client flows is refused with the hint to allow them', async () => {
    const app = emulator.apps[1]!;
    const stack = createGraphStack(configFor(emulator, { auth: { mode: 'delegated', clientSecret: undefined, clientId: app.clientId } }), {
      logger: capturingLogger(),
      clock,
      storagePath: storage.path,
    });
    stacks.push(stack);
    const error = await stack.tokens.login((p) => emulator.approveDeviceCode(p.userCode, emulator.users[0]!.id)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'AUTH_FAILED', retryable: false });
    expect((error as GraphError).hint).toContain('Allow public client flows');
  });

  it('an aborted login stops polling', async () => {
    const stack = open();
    const abort = new AbortController();
    const error = await stack.tokens.login(() => abort.abort(), { signal: abort.signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SIGN_IN_REQUIRED', message: 'sign-in cancelled' });
  });
});

describe('application mode credentials and refusals', () => {
  let emulator: Emulator;
  let storage: { path: string; remove(): Promise<void> };
  const stacks: GraphStack[] = [];
  const open = (patch: Parameters<typeof configFor>[1]) => {
    const stack = createGraphStack(configFor(emulator, patch), { logger: capturingLogger(), clock: systemClock, storagePath: storage.path });
    stacks.push(stack);
    return stack;
  };

  beforeAll(async () => {
    emulator = await startEmulator();
    storage = await tempDir();
  });
  afterAll(async () => {
    for (const s of stacks) await s.close();
    await emulator.close();
    await storage.remove();
  });

  async function certificateFiles() {
    const cert = emulator.apps[0]!.certificate!;
    const privateKeyFile = join(storage.path, 'key.pem');
    const certificateFile = join(storage.path, 'cert.pem');
    await writeFile(privateKeyFile, cert.privateKeyPem, { mode: 0o600 });
    await writeFile(certificateFile, cert.certPem);
    return { cert, privateKeyFile, certificateFile };
  }

  it('signs in with a certificate and its file (x5t#S256, x5c)', async () => {
    const { cert, privateKeyFile, certificateFile } = await certificateFiles();
    const stack = open({ auth: { clientSecret: undefined, certificate: { privateKeyFile, certificateFile, thumbprint: cert.thumbprint } } });
    await stack.client.setPresence(emulator.users[0]!.id, { availability: 'Busy', activity: 'InACall' }, 'PT1H');
    expect(emulator.presenceOf(emulator.users[0]!.id)).toMatchObject({ availability: 'Busy' });
  });

  it('signs in with a certificate given by key and SHA-1 thumbprint only (colons tolerated)', async () => {
    const { cert, privateKeyFile } = await certificateFiles();
    const colons = cert.thumbprint.match(/../g)!.join(':').toLowerCase();
    const stack = open({ auth: { clientSecret: undefined, certificate: { privateKeyFile, thumbprint: colons } } });
    await stack.client.getPresence(emulator.users[0]!.id);
  });

  it('refuses a thumbprint that is not the certificate\'s before any request', async () => {
    const { privateKeyFile, certificateFile } = await certificateFiles();
    expect(() => open({ auth: { clientSecret: undefined, certificate: { privateKeyFile, certificateFile, thumbprint: 'AB'.repeat(20) } } })).toThrow(GraphConfigError);
  });

  it('a certificate the app does not know is refused with the certificate hint', async () => {
    const { privateKeyFile } = await certificateFiles();
    const stack = open({ auth: { clientSecret: undefined, certificate: { privateKeyFile, thumbprint: 'AB'.repeat(20) } } });
    const error = await stack.tokens.getToken().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'AUTH_FAILED' });
    expect((error as GraphError).hint).toContain('certificate');
  });

  it('a wrong secret is AUTH_FAILED with the secret hint, and the secret is not in the message', async () => {
    const wrong = `${emulator.apps[0]!.clientSecret.slice(0, -3)}xyz`;
    const stack = open({ auth: { clientSecret: wrong } });
    const error = await stack.client.setPresence(emulator.users[0]!.id, { availability: 'Busy', activity: 'InACall' }, 'PT1H').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'AUTH_FAILED', retryable: false });
    expect((error as GraphError).hint).toBe(
      'the client secret is wrong or expired; create a new one under Certificates & secrets in the app registration and put its Value in auth.clientSecret',
    );
    expect((error as Error).message).toContain('AADSTS7000215');
    expect(JSON.stringify(error) + (error as Error).message).not.toContain(wrong);
  });

  it('an unknown client id names the ids to check', async () => {
    const stack = open({ auth: { clientId: '11111111-2222-3333-4444-555555555555' } });
    const error = await stack.tokens.getToken().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'AUTH_FAILED' });
    expect((error as GraphError).hint).toContain('auth.clientId');
  });

  it('an app without the presence permission gets FORBIDDEN naming Presence.ReadWrite.All and admin consent', async () => {
    const app = emulator.apps[1]!;
    const stack = open({ auth: { clientId: app.clientId, clientSecret: app.clientSecret } });
    const error = await stack.client.setPresence(emulator.users[0]!.id, { availability: 'Busy', activity: 'InACall' }, 'PT1H').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'FORBIDDEN', status: 403, retryable: false });
    expect((error as GraphError).hint).toContain('Presence.ReadWrite.All');
    expect((error as GraphError).hint).toContain('admin consent');
  });

  it('a sign-in outage is retryable (UNAVAILABLE with Retry-After)', async () => {
    const stack = open({});
    emulator.injectFault({ kind: 'tokenOutage', status: 503, retryAfterSeconds: 7, count: 1 });
    const error = await stack.tokens.getToken().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', status: 503, retryable: true, retryAfterMs: 7000 });
    // MSAL did not remember the failure: the next attempt goes out and succeeds.
    expect(await stack.tokens.getToken()).toMatch(/\S/);
  });

  it('an untrusted server certificate is a NETWORK error that names tls.caFile, not retried', async () => {
    const stack = open({ tls: { caFile: undefined } });
    const error = await stack.tokens.getToken().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NETWORK', retryable: false });
    expect((error as GraphError).hint).toContain('tls.caFile');
  });

  it('NODE_EXTRA_CA_CERTS from the environment is trusted too', async () => {
    const stack = createGraphStack(configFor(emulator, { tls: { caFile: undefined } }), {
      logger: capturingLogger(),
      clock: systemClock,
      storagePath: storage.path,
      env: { NODE_EXTRA_CA_CERTS: emulator.caCertFile },
    });
    stacks.push(stack);
    expect(await stack.tokens.getToken()).toMatch(/\S/);
  });

  it('application mode without a credential is a config error', () => {
    const config = configFor(emulator);
    const bare = { ...config, auth: { ...config.auth, clientSecret: undefined } };
    expect(() => createGraphStack(bare, { logger: capturingLogger(), clock: systemClock, storagePath: storage.path })).toThrow(GraphConfigError);
  });
});

describe('MSAL shares the clock-free path: a ManualClock far from wall time still signs in with a secret', () => {
  it('works with the ManualClock default start', async () => {
    const clock = new ManualClock();
    const emulator = await startEmulator({ clock });
    const storage = await tempDir();
    const stack = createGraphStack(configFor(emulator), { logger: capturingLogger(), clock, storagePath: storage.path });
    try {
      await stack.client.setPresence(emulator.users[0]!.id, { availability: 'Busy', activity: 'InACall' }, 'PT1H');
      expect(emulator.presenceOf(emulator.users[0]!.id)).toMatchObject({ availability: 'Busy' });
    } finally {
      await stack.close();
      await emulator.close();
      await storage.remove();
    }
  });
});

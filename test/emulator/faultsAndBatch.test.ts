import { ConfidentialClientApplication } from '@azure/msal-node';
import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { appToken, call, startTestEmulator, useEmulator } from '../helpers/emulator.js';
import { undiciNetworkModule } from '../helpers/msalNetwork.js';

const env = useEmulator();

describe('faults', () => {
  it.each([
    [429, 7],
    [503, 3],
    [500, undefined],
    [504, undefined],
  ] as const)('status %i for the next N Graph requests, then normal', async (status, retryAfterSeconds) => {
    const t = env.current;
    const token = await appToken(t);
    const path = `/v1.0/users/${t.emulator.users[0]!.id}/presence`;
    t.emulator.injectFault({ kind: 'status', status, count: 2, ...(retryAfterSeconds ? { retryAfterSeconds } : {}) });
    for (let i = 0; i < 2; i++) {
      const res = await call(t, 'GET', path, { token });
      expect(res.status).toBe(status);
      expect(res.body.error.innerError['request-id']).toBe(res.headers['request-id']);
      if (retryAfterSeconds) expect(res.headers['retry-after']).toBe(String(retryAfterSeconds));
    }
    expect((await call(t, 'GET', path, { token })).status).toBe(200);
  });

  it('a 429 without an explicit Retry-After still carries one', async () => {
    const t = env.current;
    const token = await appToken(t);
    t.emulator.injectFault({ kind: 'status', status: 429, count: 1 });
    const res = await call(t, 'GET', `/v1.0/users/${t.emulator.users[0]!.id}/presence`, { token });
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('TooManyRequests');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('a fault with a path only hits that path (set through the control route)', async () => {
    const t = env.current;
    const token = await appToken(t);
    const [a, b] = t.emulator.users;
    const added = await call(t, 'POST', '/_emulator/faults', { json: { kind: 'status', status: 503, count: 1, path: `/users/${b!.id}` } });
    expect(added.status).toBe(201);
    expect((await call(t, 'GET', `/v1.0/users/${a!.id}/presence`, { token })).status).toBe(200);
    expect((await call(t, 'GET', `/v1.0/users/${b!.id}/presence`, { token })).status).toBe(503);
    expect((await call(t, 'GET', `/v1.0/users/${b!.id}/presence`, { token })).status).toBe(200);
    expect((await call(t, 'GET', '/_emulator/faults')).body.value).toEqual([]);
  });

  it('hang keeps the socket open without answering until the client gives up', async () => {
    const t = env.current;
    const token = await appToken(t);
    t.emulator.injectFault({ kind: 'hang', count: 1 });
    const abort = new AbortController();
    let settled = false;
    const pending = request(`${t.emulator.graphBaseUrl}/v1.0/users/${t.emulator.users[0]!.id}/presence`, {
      headers: { authorization: `Bearer ${token}` },
      dispatcher: t.dispatcher,
      signal: abort.signal,
    }).finally(() => {
      settled = true;
    });
    while (!t.emulator.requestLog().some((e) => e.status === 0)) await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    abort.abort();
    await expect(pending).rejects.toThrow();
    expect((await call(t, 'GET', `/v1.0/users/${t.emulator.users[0]!.id}/presence`, { token })).status).toBe(200);
  });

  it('drop destroys the connection', async () => {
    const t = env.current;
    const token = await appToken(t);
    t.emulator.injectFault({ kind: 'drop', count: 1 });
    await expect(call(t, 'GET', `/v1.0/users/${t.emulator.users[0]!.id}/presence`, { token })).rejects.toThrow();
    expect(t.emulator.requestLog().at(-1)).toMatchObject({ status: 0 });
    expect((await call(t, 'GET', `/v1.0/users/${t.emulator.users[0]!.id}/presence`, { token })).status).toBe(200);
  });

  it('tokenOutage makes the token endpoint answer 503 for N requests, Graph unaffected; MSAL recovers after', async () => {
    const t = env.current;
    const token = await appToken(t);
    t.emulator.injectFault({ kind: 'tokenOutage', count: 1, retryAfterSeconds: 2 });
    expect((await call(t, 'GET', `/v1.0/users/${t.emulator.users[0]!.id}/presence`, { token })).status).toBe(200);
    const app = t.emulator.apps[0]!;
    const cca = new ConfidentialClientApplication({
      auth: { clientId: app.clientId, clientSecret: app.clientSecret, authority: `${t.emulator.authorityHost}/${t.emulator.tenantId}`, knownAuthorities: [`127.0.0.1:${t.emulator.port}`] },
      system: { networkClient: undiciNetworkModule(t.dispatcher) },
    });
    await expect(cca.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] })).rejects.toThrow();
    const outage = t.emulator.requestLog().filter((e) => e.route.endsWith('/token')).at(-1);
    expect(outage?.status).toBe(503);
    const again = await appToken(t);
    expect(again).toBeTruthy();
  });

  it('throttles presence calls per application per 30 s with Retry-After', async () => {
    const t = await startTestEmulator({ throttleLimit: 3 });
    try {
      const token = await appToken(t);
      const path = `/v1.0/users/${t.emulator.users[0]!.id}/presence`;
      for (let i = 0; i < 3; i++) expect((await call(t, 'GET', path, { token })).status).toBe(200);
      const throttled = await call(t, 'GET', path, { token });
      expect(throttled.status).toBe(429);
      expect(throttled.headers['retry-after']).toBe('30');
      expect((await call(t, 'GET', path, { token: await appToken(t, 1) })).status).toBe(403);
      await t.clock.advance(30_000);
      expect((await call(t, 'GET', path, { token })).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('$batch', () => {
  it('runs up to 20 requests, each with its own status, and logs each', async () => {
    const t = env.current;
    const token = await appToken(t);
    const appId = t.emulator.apps[0]!.clientId;
    const [a, b] = t.emulator.users;
    t.emulator.clearRequestLog();
    const res = await call(t, 'POST', '/v1.0/$batch', {
      token,
      json: {
        requests: [
          { id: '1', method: 'POST', url: `/users/${a!.id}/presence/setPresence`, headers: { 'Content-Type': 'application/json' }, body: { sessionId: appId, availability: 'Busy', activity: 'InACall', expirationDuration: 'PT10M' } },
          { id: '2', method: 'GET', url: `/users/${a!.id}/presence`, dependsOn: ['1'] },
          { id: '3', method: 'POST', url: `/users/${b!.id}/presence/clearPresence`, headers: { 'Content-Type': 'application/json' }, body: { sessionId: appId } },
          { id: '4', method: 'GET', url: `/users/${b!.id}/presence`, dependsOn: ['3'] },
          { id: '5', method: 'POST', url: `/users/${b!.id}/presence/setPresence`, headers: { 'Content-Type': 'application/json' }, body: { sessionId: appId, availability: 'Busy', activity: 'Busy' } },
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.responses.map((r: { id: string; status: number }) => [r.id, r.status])).toEqual([
      ['1', 200],
      ['2', 200],
      ['3', 404],
      ['4', 424],
      ['5', 400],
    ]);
    expect(res.body.responses[1].body).toMatchObject({ availability: 'Busy', activity: 'InACall' });
    expect(res.body.responses[2].body.error.code).toBe('NotFound');
    expect(t.emulator.requestLog().map((e) => [e.kind, e.route, e.status])).toEqual([
      ['batch', `/users/${a!.id}/presence/setPresence`, 200],
      ['batch', `/users/${a!.id}/presence`, 200],
      ['batch', `/users/${b!.id}/presence/clearPresence`, 404],
      ['batch', `/users/${b!.id}/presence/setPresence`, 400],
      ['graph', '/$batch', 200],
    ]);
  });

  it('matches dependsOn without regard to case and refuses a body without a Content-Type', async () => {
    const t = env.current;
    const token = await appToken(t);
    const appId = t.emulator.apps[0]!.clientId;
    const user = t.emulator.users[0]!.id;
    const set = { method: 'POST', url: `/users/${user}/presence/setPresence`, body: { sessionId: appId, availability: 'Busy', activity: 'InACall' } };
    const noType = await call(t, 'POST', '/v1.0/$batch', { token, json: { requests: [{ id: 'Set', ...set }] } });
    expect(noType.status).toBe(400);
    expect(noType.body.error.code).toBe('BadRequest');
    expect(t.emulator.sessionsOf(user)).toEqual([]);
    const res = await call(t, 'POST', '/v1.0/$batch', {
      token,
      json: { requests: [{ id: 'Set', ...set, headers: { 'content-type': 'application/json' } }, { id: 'get', method: 'GET', url: `/users/${user}/presence`, dependsOn: ['SET'] }] },
    });
    expect(res.status).toBe(200);
    expect(res.body.responses.map((r: { id: string; status: number }) => [r.id, r.status])).toEqual([
      ['Set', 200],
      ['get', 200],
    ]);
  });

  it('refuses 21 requests, duplicate ids, and a missing token', async () => {
    const t = env.current;
    const token = await appToken(t);
    const item = (i: number) => ({ id: String(i), method: 'GET', url: `/users/${t.emulator.users[0]!.id}/presence` });
    const ok = await call(t, 'POST', '/v1.0/$batch', { token, json: { requests: Array.from({ length: 20 }, (_, i) => item(i)) } });
    expect(ok.status).toBe(200);
    expect(ok.body.responses).toHaveLength(20);
    const tooMany = await call(t, 'POST', '/v1.0/$batch', { token, json: { requests: Array.from({ length: 21 }, (_, i) => item(i)) } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.code).toBe('BadRequest');
    expect((await call(t, 'POST', '/v1.0/$batch', { token, json: { requests: [item(1), item(1)] } })).status).toBe(400);
    // ids are compared without regard to case (JSON batching page)
    const sameId = await call(t, 'POST', '/v1.0/$batch', { token, json: { requests: [{ ...item(1), id: 'a' }, { ...item(1), id: 'A' }] } });
    expect(sameId.status).toBe(400);
    expect((await call(t, 'POST', '/v1.0/$batch', { json: { requests: [item(1)] } })).status).toBe(401);
  });
});

import { describe, expect, it } from 'vitest';
import { appToken, call, useEmulator } from '../helpers/emulator.js';

const env = useEmulator();

function userPath(id: string, action?: string): string {
  return `/v1.0/users/${id}/presence${action ? `/${action}` : ''}`;
}

describe('emulator facts', () => {
  it('serves HTTPS on loopback with the documented ready-made tenant', () => {
    const { emulator } = env.current;
    expect(emulator.authorityHost).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(emulator.graphBaseUrl).toBe(emulator.authorityHost);
    expect(emulator.apps).toHaveLength(2);
    expect(emulator.apps[0]!.permissions).toContain('Presence.ReadWrite.All');
    expect(emulator.apps[1]!.permissions.filter((p) => p.startsWith('Presence'))).toEqual([]);
    expect(emulator.users).toHaveLength(3);
    expect(emulator.caCert).toContain('BEGIN CERTIFICATE');
    const facts = emulator.facts();
    expect(Object.keys(facts)).toEqual(['authorityHost', 'graphBaseUrl', 'caCertFile', 'tenantId', 'apps', 'users', 'groups']);
  });
});

describe('setPresence / clearPresence / GET presence', () => {
  it('sets, reads back and clears a session, and logs each call', async () => {
    const t = env.current;
    const token = await appToken(t);
    const user = t.emulator.users[0]!;
    const appId = t.emulator.apps[0]!.clientId;
    t.emulator.clearRequestLog();

    const before = await call(t, 'GET', userPath(user.id), { token });
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ id: user.id, availability: 'Offline', activity: 'Offline' });

    const set = await call(t, 'POST', userPath(user.id, 'setPresence'), {
      token,
      json: { sessionId: appId, availability: 'Busy', activity: 'InACall', expirationDuration: 'PT1H' },
    });
    expect(set.status).toBe(200);
    expect(set.headers['request-id']).toMatch(/[0-9a-f-]{36}/);

    const read = await call(t, 'GET', userPath(user.id), { token });
    expect(read.body).toMatchObject({ id: user.id, availability: 'Busy', activity: 'InACall' });
    // presence routes take the object id only (msgraph-sdk-dotnet issue 1942)
    const byUpn = await call(t, 'GET', userPath(user.userPrincipalName), { token });
    expect(byUpn.status).toBe(400);
    expect(t.emulator.sessionsOf(user.id)).toMatchObject([{ clientId: appId, availability: 'Busy', activity: 'InACall' }]);

    const clear = await call(t, 'POST', userPath(user.id, 'clearPresence'), { token, json: { sessionId: appId } });
    expect(clear.status).toBe(200);
    expect(t.emulator.presenceOf(user.id)).toEqual({ availability: 'Offline', activity: 'Offline' });

    const again = await call(t, 'POST', userPath(user.id, 'clearPresence'), { token, json: { sessionId: appId } });
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('NotFound');

    const log = t.emulator.requestLog();
    expect(log.map((e) => [e.method, e.route, e.status])).toEqual([
      ['GET', `/users/${user.id}/presence`, 200],
      ['POST', `/users/${user.id}/presence/setPresence`, 200],
      ['GET', `/users/${user.id}/presence`, 200],
      ['GET', `/users/${user.userPrincipalName}/presence`, 400],
      ['POST', `/users/${user.id}/presence/clearPresence`, 200],
      ['POST', `/users/${user.id}/presence/clearPresence`, 404],
    ]);
    expect(log[1]).toMatchObject({ appId, kind: 'graph', path: `/v1.0/users/${user.id}/presence/setPresence`, body: { availability: 'Busy' }, at: t.clock.now() });
  });

  it('answers the same under /beta', async () => {
    const t = env.current;
    const token = await appToken(t);
    const user = t.emulator.users[1]!;
    const res = await call(t, 'POST', `/beta/users/${user.id}/presence/setPresence`, {
      token,
      json: { sessionId: t.emulator.apps[0]!.clientId, availability: 'DoNotDisturb', activity: 'Presenting' },
    });
    expect(res.status).toBe(200);
    expect((await call(t, 'GET', `/beta/users/${user.id}/presence`, { token })).body.availability).toBe('DoNotDisturb');
  });
});

import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { appToken, call, userToken, useEmulator, type JsonResponse, type TestEmulator } from '../helpers/emulator.js';

const env = useEmulator();

const setPath = (id: string): string => `/v1.0/users/${id}/presence/setPresence`;

function forged(payload: Record<string, unknown>): string {
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const head = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'x' })).toString('base64url');
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${head}.${body}.${sign('sha256', Buffer.from(`${head}.${body}`), key).toString('base64url')}`;
}

function expectGraphError(res: JsonResponse, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.body.error.code).toBe(code);
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.error.innerError['request-id']).toBe(res.headers['request-id']);
  expect(res.body.error.innerError.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
}

async function setPresence(t: TestEmulator, token: string, userId: string, body: unknown) {
  return call(t, 'POST', setPath(userId), { token, json: body });
}

describe('401 InvalidAuthenticationToken', () => {
  it.each([
    ['no token', undefined],
    ['not a JWT', 'abc'],
    ['signed by another key', 'forged'],
  ])('refuses %s', async (_name, kind) => {
    const t = env.current;
    const token = kind === 'forged' ? forged({ aud: 'https://graph.microsoft.com', tid: t.emulator.tenantId, appid: t.emulator.apps[0]!.clientId, roles: ['Presence.ReadWrite.All'], exp: t.clock.now() / 1000 + 3600 }) : kind;
    const res = await call(t, 'GET', `/v1.0/users/${t.emulator.users[0]!.id}/presence`, token === undefined ? {} : { token });
    expectGraphError(res, 401, 'InvalidAuthenticationToken');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
  });

  it('refuses a token once the emulator clock passes its expiry, not before', async () => {
    const t = env.current;
    const token = await appToken(t);
    const path = `/v1.0/users/${t.emulator.users[0]!.id}/presence`;
    await t.clock.advance(3599_000);
    expect((await call(t, 'GET', path, { token })).status).toBe(200);
    await t.clock.advance(1000);
    const res = await call(t, 'GET', path, { token });
    expectGraphError(res, 401, 'InvalidAuthenticationToken');
    expect(res.body.error.message).toContain('expired');
  });
});

describe('403 Forbidden', () => {
  it('refuses an app without presence permission, for writes and reads', async () => {
    const t = env.current;
    const token = await appToken(t, 1);
    const user = t.emulator.users[0]!;
    expectGraphError(await setPresence(t, token, user.id, { sessionId: t.emulator.apps[1]!.clientId, availability: 'Busy', activity: 'InACall' }), 403, 'Forbidden');
    expectGraphError(await call(t, 'GET', `/v1.0/users/${user.id}/presence`, { token }), 403, 'Forbidden');
    expectGraphError(await call(t, 'POST', '/v1.0/communications/getPresencesByUserId', { token, json: { ids: [user.id] } }), 403, 'Forbidden');
  });

  it("refuses a delegated token writing another user's presence with a 401 (microsoft-graph-explorer-v4 issue 3096)", async () => {
    const t = env.current;
    const { accessToken } = await userToken(t, 0);
    const other = t.emulator.users[1]!;
    const refused = await setPresence(t, accessToken, other.id, { sessionId: t.emulator.apps[0]!.clientId, availability: 'Busy', activity: 'InACall' });
    expectGraphError(refused, 401, 'Unauthorized');
    expect(refused.body.error.message).toBe('Cannot set the presence of another user.');
    expect((await setPresence(t, accessToken, t.emulator.users[0]!.id, { sessionId: t.emulator.apps[0]!.clientId, availability: 'Busy', activity: 'InACall' })).status).toBe(200);
  });
});

describe('404 and 400', () => {
  it('answers 404 NotFound for an unknown user', async () => {
    const t = env.current;
    const token = await appToken(t);
    expectGraphError(await setPresence(t, token, '0b1c7d2e-0000-4000-8000-000000000000', { sessionId: t.emulator.apps[0]!.clientId, availability: 'Busy', activity: 'InACall' }), 404, 'NotFound');
  });

  it('refuses a user principal name on every presence route, even of a real user (msgraph-sdk-dotnet 1942)', async () => {
    const t = env.current;
    const token = await appToken(t);
    const user = t.emulator.users[0]!;
    const base = `/v1.0/users/${encodeURIComponent(user.userPrincipalName)}/presence`;
    const sessionId = t.emulator.apps[0]!.clientId;
    expectGraphError(await call(t, 'GET', base, { token }), 400, 'BadRequest');
    for (const [action, json] of [
      ['setPresence', { sessionId, availability: 'Busy', activity: 'InACall' }],
      ['clearPresence', { sessionId }],
      ['setUserPreferredPresence', { availability: 'Busy', activity: 'Busy' }],
      ['clearUserPreferredPresence', {}],
    ] as const) {
      expectGraphError(await call(t, 'POST', `${base}/${action}`, { token, json }), 400, 'BadRequest');
    }
    expect(t.emulator.sessionsOf(user.id)).toEqual([]);
    expect(t.emulator.preferredOf(user.id)).toBeNull();
  });

  it.each([
    ['a sessionId that is not the caller', { sessionId: '9f3e1c2a-0000-4000-8000-000000000000', availability: 'Busy', activity: 'InACall' }],
    ['no sessionId', { availability: 'Busy', activity: 'InACall' }],
    ['no activity', { sessionId: 'APP', availability: 'Busy' }],
    ['an unsupported pair Busy/Busy', { sessionId: 'APP', availability: 'Busy', activity: 'Busy' }],
    ['an unsupported pair Available/InACall', { sessionId: 'APP', availability: 'Available', activity: 'InACall' }],
    ['expirationDuration not ISO 8601', { sessionId: 'APP', availability: 'Busy', activity: 'InACall', expirationDuration: '10 minutes' }],
    ['a JSON array', ['APP']],
  ])('setPresence with %s is 400 BadRequest', async (_name, body) => {
    const t = env.current;
    const token = await appToken(t);
    const appId = t.emulator.apps[0]!.clientId;
    const withApp = JSON.parse(JSON.stringify(body).replaceAll('"APP"', JSON.stringify(appId)));
    expectGraphError(await setPresence(t, token, t.emulator.users[0]!.id, withApp), 400, 'BadRequest');
    expect(t.emulator.sessionsOf(t.emulator.users[0]!.id)).toEqual([]);
  });

  it.each([
    ['below PT5M', 'PT4M59S'],
    ['above PT4H', 'PT4H1S'],
  ])('setPresence with expirationDuration %s is 400 InvalidArgument', async (_name, expirationDuration) => {
    const t = env.current;
    const token = await appToken(t);
    const body = { sessionId: t.emulator.apps[0]!.clientId, availability: 'Busy', activity: 'InACall', expirationDuration };
    expectGraphError(await setPresence(t, token, t.emulator.users[0]!.id, body), 400, 'InvalidArgument');
    expect(t.emulator.sessionsOf(t.emulator.users[0]!.id)).toEqual([]);
  });

  it('accepts the expiration bounds PT5M and PT4H and every documented pair', async () => {
    const t = env.current;
    const token = await appToken(t);
    const appId = t.emulator.apps[0]!.clientId;
    const user = t.emulator.users[0]!.id;
    for (const [availability, activity] of [['Available', 'Available'], ['Busy', 'InACall'], ['Busy', 'InAConferenceCall'], ['Away', 'Away'], ['DoNotDisturb', 'Presenting']]) {
      expect((await setPresence(t, token, user, { sessionId: appId, availability, activity, expirationDuration: 'PT5M' })).status).toBe(200);
      expect(t.emulator.presenceOf(user)).toEqual({ availability, activity });
    }
    expect((await setPresence(t, token, user, { sessionId: appId, availability: 'Busy', activity: 'InACall', expirationDuration: 'PT4H' })).status).toBe(200);
    expect(t.emulator.sessionsOf(user)[0]!.expiresAt).toBe(t.clock.now() + 4 * 3_600_000);
    expect((await setPresence(t, token, user, { sessionId: appId, availability: 'Busy', activity: 'InACall' })).status).toBe(200);
    expect(t.emulator.sessionsOf(user)[0]!.expiresAt).toBe(t.clock.now() + 5 * 60_000);
  });

  it('clearPresence needs the caller as sessionId', async () => {
    const t = env.current;
    const token = await appToken(t);
    const res = await call(t, 'POST', `/v1.0/users/${t.emulator.users[0]!.id}/presence/clearPresence`, { token, json: { sessionId: 'someone-else' } });
    expectGraphError(res, 400, 'BadRequest');
  });

  it('refuses /me with an application token', async () => {
    const t = env.current;
    expectGraphError(await call(t, 'GET', '/v1.0/me/presence', { token: await appToken(t) }), 400, 'BadRequest');
  });

  it('answers unknown routes and methods in Graph shape', async () => {
    const t = env.current;
    const token = await appToken(t);
    expectGraphError(await call(t, 'GET', `/v1.0/users/${t.emulator.users[0]!.id}/calendar`, { token }), 400, 'BadRequest');
    expectGraphError(await call(t, 'GET', `/v1.0/users/${t.emulator.users[0]!.id}/presence/setPresence`, { token }), 405, 'MethodNotAllowed');
    expectGraphError(await call(t, 'GET', '/nothing/here'), 404, 'NotFound');
  });
});

describe('setUserPreferredPresence / clearUserPreferredPresence', () => {
  it('accepts the preferred pairs with their default expirations and clears them', async () => {
    const t = env.current;
    const token = await appToken(t);
    const user = t.emulator.users[2]!.id;
    const base = `/v1.0/users/${user}/presence`;
    expect((await call(t, 'POST', `${base}/setUserPreferredPresence`, { token, json: { availability: 'Busy', activity: 'Busy' } })).status).toBe(200);
    expect(t.emulator.preferredOf(user)?.expiresAt).toBe(t.clock.now() + 86_400_000);
    expect((await call(t, 'POST', `${base}/setUserPreferredPresence`, { token, json: { availability: 'Offline', activity: 'OffWork' } })).status).toBe(200);
    expect(t.emulator.preferredOf(user)?.expiresAt).toBe(t.clock.now() + 7 * 86_400_000);
    // a preferred presence shows only while a session exists (setUserPreferredPresence page)
    expect((await call(t, 'GET', base, { token })).body).toMatchObject({ availability: 'Offline', activity: 'Offline' });
    t.emulator.addSession(user, { clientId: 'teams', availability: 'Available', activity: 'Available' });
    expect((await call(t, 'GET', base, { token })).body).toMatchObject({ availability: 'Offline', activity: 'OffWork' });
    expect((await call(t, 'POST', `${base}/setUserPreferredPresence`, { token, json: { availability: 'BeRightBack', activity: 'BeRightBack', expirationDuration: 'PT1H' } })).status).toBe(200);
    expect(t.emulator.preferredOf(user)?.expiresAt).toBe(t.clock.now() + 3_600_000);
    expectGraphError(await call(t, 'POST', `${base}/setUserPreferredPresence`, { token, json: { availability: 'Busy', activity: 'InACall' } }), 400, 'BadRequest');
    expect((await call(t, 'POST', `${base}/clearUserPreferredPresence`, { token })).status).toBe(200);
    expect(t.emulator.preferredOf(user)).toBeNull();
  });
});

describe('getPresencesByUserId', () => {
  it('returns every requested id: no session reads Offline/Offline, unknown ids PresenceUnknown', async () => {
    const t = env.current;
    const token = await appToken(t);
    const [a, b] = t.emulator.users;
    t.emulator.addSession(a!.id, { clientId: 'teams', availability: 'Busy', activity: 'InAMeeting' });
    const unknown = 'ffffffff-0000-4000-8000-000000000000';
    const res = await call(t, 'POST', '/v1.0/communications/getPresencesByUserId', { token, json: { ids: [a!.id, b!.id, unknown] } });
    expect(res.status).toBe(200);
    expect(res.body.value).toEqual([
      { id: a!.id, availability: 'Busy', activity: 'InAMeeting', statusMessage: null },
      { id: b!.id, availability: 'Offline', activity: 'Offline', statusMessage: null },
      { id: unknown, availability: 'PresenceUnknown', activity: 'PresenceUnknown', statusMessage: null },
    ]);
  });

  it('takes 650 ids and refuses 651, an empty list and non-GUIDs', async () => {
    const t = env.current;
    const token = await appToken(t);
    const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const ok = await call(t, 'POST', '/v1.0/communications/getPresencesByUserId', { token, json: { ids: ids(650) } });
    expect(ok.status).toBe(200);
    expect(ok.body.value).toHaveLength(650);
    expectGraphError(await call(t, 'POST', '/v1.0/communications/getPresencesByUserId', { token, json: { ids: ids(651) } }), 400, 'BadRequest');
    expectGraphError(await call(t, 'POST', '/v1.0/communications/getPresencesByUserId', { token, json: { ids: [] } }), 400, 'BadRequest');
    expectGraphError(await call(t, 'POST', '/v1.0/communications/getPresencesByUserId', { token, json: { ids: ['alex.wilber@contoso.example'] } }), 400, 'BadRequest');
  });
});

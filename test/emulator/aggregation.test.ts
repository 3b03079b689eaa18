import { describe, expect, it } from 'vitest';
import { PresenceStore, sessionView } from '../../src/emulator/presenceStore.js';
import { appToken, call, useEmulator } from '../helpers/emulator.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

describe('aggregation order (pure store)', () => {
  const session = (clientId: string, availability: string, activity: string, setAt = T0) => ({ clientId, availability, activity, setAt, expiresAt: T0 + 60 * MIN });
  it.each([
    [[['a', 'Available', 'Available'], ['b', 'Away', 'Away']], 'Available/Available'],
    [[['a', 'Available', 'Available'], ['b', 'Busy', 'InACall']], 'Busy/InACall'],
    [[['a', 'DoNotDisturb', 'Presenting'], ['b', 'Busy', 'InACall']], 'DoNotDisturb/Presenting'],
    [[['a', 'Away', 'Away'], ['b', 'BeRightBack', 'BeRightBack']], 'BeRightBack/BeRightBack'],
    [[['a', 'Busy', 'InACall'], ['b', 'DoNotDisturb', 'Presenting'], ['c', 'Available', 'Available']], 'DoNotDisturb/Presenting'],
    [[], 'Offline/Offline'],
  ])('%j reads %s', (sessions, expected) => {
    const store = new PresenceStore();
    for (const [c, a, act] of sessions) store.setSession('u', session(c!, a!, act!));
    const p = store.presence('u', T0);
    expect(`${p.availability}/${p.activity}`).toBe(expected);
  });

  it('among equal availabilities the latest post wins', () => {
    const store = new PresenceStore();
    store.setSession('u', session('a', 'Busy', 'InACall', T0));
    store.setSession('u', session('b', 'Busy', 'InAConferenceCall', T0 + MIN));
    expect(store.presence('u', T0 + MIN).activity).toBe('InAConferenceCall');
    store.setSession('u', session('a', 'Busy', 'InACall', T0 + 2 * MIN));
    expect(store.presence('u', T0 + 2 * MIN).activity).toBe('InACall');
  });

  it('the preferred presence overrides every session', () => {
    const store = new PresenceStore();
    store.setSession('u', session('a', 'DoNotDisturb', 'Presenting'));
    store.setPreferred('u', { availability: 'Away', activity: 'Away', setAt: T0, expiresAt: T0 + 10 * MIN }, T0);
    expect(store.presence('u', T0)).toEqual({ availability: 'Away', activity: 'Away' });
    expect(store.presence('u', T0 + 10 * MIN)).toEqual({ availability: 'DoNotDisturb', activity: 'Presenting' });
  });

  it('a preferred presence with no session reads Offline/Offline, and shows once a session exists', () => {
    const store = new PresenceStore();
    store.setPreferred('u', { availability: 'Busy', activity: 'Busy', setAt: T0, expiresAt: T0 + 60 * MIN }, T0);
    expect(store.presence('u', T0)).toEqual({ availability: 'Offline', activity: 'Offline' });
    store.setSession('u', session('teams', 'Available', 'Available', T0 + MIN));
    expect(store.presence('u', T0 + MIN)).toEqual({ availability: 'Busy', activity: 'Busy' });
  });

  it('an Available session fades to AvailableInactive at 5 min and Away at 10 min; others do not fade', () => {
    const available = session('a', 'Available', 'Available');
    const timeline = [0, 5 * MIN - 1, 5 * MIN, 10 * MIN - 1, 10 * MIN].map((d) => sessionView(available, T0 + d).current.activity);
    expect(timeline).toEqual(['Available', 'Available', 'AvailableInactive', 'AvailableInactive', 'Away']);
    expect(sessionView(available, T0 + 10 * MIN).current.availability).toBe('Away');
    expect(sessionView(session('b', 'Busy', 'InACall'), T0 + 30 * MIN).current).toEqual({ availability: 'Busy', activity: 'InACall' });
  });
});

describe('presence timeline through Graph, moving the clock', () => {
  const env = useEmulator();

  it('fades, renews, and ends at the expiration', async () => {
    const t = env.current;
    const token = await appToken(t);
    const user = t.emulator.users[0]!.id;
    const appId = t.emulator.apps[0]!.clientId;
    const read = async (): Promise<string> => {
      const body = (await call(t, 'GET', `/v1.0/users/${user}/presence`, { token })).body;
      return `${body.availability}/${body.activity}`;
    };
    const post = (availability: string, activity: string, expirationDuration: string) =>
      call(t, 'POST', `/v1.0/users/${user}/presence/setPresence`, { token, json: { sessionId: appId, availability, activity, expirationDuration } });

    expect((await post('Available', 'Available', 'PT1H')).status).toBe(200);
    expect(await read()).toBe('Available/Available');
    await t.clock.advance(5 * MIN);
    expect(await read()).toBe('Available/AvailableInactive');
    await t.clock.advance(5 * MIN);
    expect(await read()).toBe('Away/Away');
    expect((await post('Available', 'Available', 'PT1H')).status).toBe(200);
    expect(await read()).toBe('Available/Available');
    await t.clock.advance(4 * MIN);
    expect((await post('Available', 'Available', 'PT1H')).status).toBe(200);
    await t.clock.advance(4 * MIN);
    expect(await read()).toBe('Available/Available');

    expect((await post('Busy', 'InACall', 'PT30M')).status).toBe(200);
    await t.clock.advance(30 * MIN - 1);
    expect(await read()).toBe('Busy/InACall');
    await t.clock.advance(1);
    expect(await read()).toBe('Offline/Offline');
    expect(t.emulator.sessionsOf(user)).toEqual([]);
  });

  it("combines the app's session with another client's (control route) and a preferred presence", async () => {
    const t = env.current;
    const token = await appToken(t);
    const user = t.emulator.users[1]!;
    const appId = t.emulator.apps[0]!.clientId;
    const added = await call(t, 'POST', `/_emulator/users/${user.userPrincipalName}/sessions`, { json: { clientId: 'teams-desktop', availability: 'Busy', activity: 'InAMeeting', expirationDuration: 'PT2H' } });
    expect(added.status).toBe(201);
    expect(added.body.presence).toEqual({ availability: 'Busy', activity: 'InAMeeting' });
    await call(t, 'POST', `/v1.0/users/${user.id}/presence/setPresence`, { token, json: { sessionId: appId, availability: 'DoNotDisturb', activity: 'Presenting', expirationDuration: 'PT1H' } });
    expect(t.emulator.presenceOf(user.id)).toEqual({ availability: 'DoNotDisturb', activity: 'Presenting' });
    await call(t, 'POST', `/v1.0/users/${user.id}/presence/clearPresence`, { token, json: { sessionId: appId } });
    expect(t.emulator.presenceOf(user.id)).toEqual({ availability: 'Busy', activity: 'InAMeeting' });
    await call(t, 'POST', `/v1.0/users/${user.id}/presence/setUserPreferredPresence`, { token, json: { availability: 'Available', activity: 'Available', expirationDuration: 'PT10M' } });
    expect(t.emulator.presenceOf(user.id)).toEqual({ availability: 'Available', activity: 'Available' });
    await t.clock.advance(10 * MIN);
    expect(t.emulator.presenceOf(user.id)).toEqual({ availability: 'Busy', activity: 'InAMeeting' });
    const listed = await call(t, 'GET', `/_emulator/users/${user.id}/sessions`);
    expect(listed.body.sessions).toMatchObject([{ clientId: 'teams-desktop', current: { availability: 'Busy', activity: 'InAMeeting' } }]);
    expect((await call(t, 'DELETE', `/_emulator/users/${user.id}/sessions/teams-desktop`)).status).toBe(204);
    expect(t.emulator.presenceOf(user.id)).toEqual({ availability: 'Offline', activity: 'Offline' });
  });
});

/**
 * More app registrations (`extraApps`, `addApp()`, `POST /_emulator/apps`): each signs in with its
 * own secret, writes presence sessions under its own id, and has a throttling budget of its own.
 */
import { describe, expect, it } from 'vitest';
import { appToken, call, startTestEmulator } from '../helpers/emulator.js';

describe('extra app registrations', () => {
  it('sign in with their own secret, are logged under their own id and are throttled apart', async () => {
    const t = await startTestEmulator({ throttleLimit: 2, extraApps: 2, appPermissions: ['Presence.ReadWrite.All', 'GroupMember.Read.All'] });
    try {
      const { emulator } = t;
      expect(emulator.apps).toHaveLength(4);
      expect(new Set(emulator.apps.map((a) => a.clientId)).size).toBe(4);
      expect(new Set(emulator.apps.map((a) => a.clientSecret)).size).toBe(4);
      expect(emulator.apps[2]!.permissions).toEqual(['Presence.ReadWrite.All', 'GroupMember.Read.All']);
      expect(emulator.facts().apps).toHaveLength(4);

      const user = emulator.users[0]!;
      const path = `/v1.0/users/${user.id}/presence/setPresence`;
      const setAs = async (appIndex: number, token: string): Promise<number> =>
        (await call(t, 'POST', path, { token, json: { sessionId: emulator.apps[appIndex]!.clientId, availability: 'Busy', activity: 'InACall', expirationDuration: 'PT1H' } })).status;
      const second = await appToken(t, 2);
      const third = await appToken(t, 3);
      // a session id must be the caller's own app id, so app 3 cannot write app 2's session
      expect((await call(t, 'POST', path, { token: third, json: { sessionId: emulator.apps[2]!.clientId, availability: 'Busy', activity: 'InACall' } })).status).toBe(400);
      expect(await setAs(2, second)).toBe(200);
      expect(await setAs(2, second)).toBe(200);
      expect(await setAs(2, second)).toBe(429);
      // app 3 has its own budget of two: one was used by the refused call above
      expect(await setAs(3, third)).toBe(200);
      expect(await setAs(3, third)).toBe(429);
      expect(emulator.sessionsOf(user.id).map((s) => s.clientId).sort()).toEqual([emulator.apps[2]!.clientId, emulator.apps[3]!.clientId].sort());
      const writes = emulator.requestLog().filter((e) => e.route.endsWith('/setPresence'));
      expect(writes.map((e) => [e.appId, e.status])).toEqual([
        [emulator.apps[3]!.clientId, 400],
        [emulator.apps[2]!.clientId, 200],
        [emulator.apps[2]!.clientId, 200],
        [emulator.apps[2]!.clientId, 429],
        [emulator.apps[3]!.clientId, 200],
        [emulator.apps[3]!.clientId, 429],
      ]);
    } finally {
      await t.close();
    }
  });

  it('can be added at run time, with the permissions asked for', async () => {
    const t = await startTestEmulator();
    try {
      const made = t.emulator.addApp({ displayName: 'Readers', permissions: ['Presence.Read.All'] });
      expect(t.emulator.apps.at(-1)).toBe(made);
      const token = await appToken(t, t.emulator.apps.length - 1);
      const user = t.emulator.users[0]!;
      expect((await call(t, 'GET', `/v1.0/users/${user.id}/presence`, { token })).status).toBe(200);
      expect((await call(t, 'POST', `/v1.0/users/${user.id}/presence/setPresence`, { token, json: { sessionId: made.clientId, availability: 'Busy', activity: 'InACall' } })).status).toBe(403);
      const posted = await call(t, 'POST', '/_emulator/apps', { json: {} });
      expect(posted.status).toBe(201);
      expect(posted.body).toMatchObject({ clientId: t.emulator.apps.at(-1)!.clientId, clientSecret: t.emulator.apps.at(-1)!.clientSecret, permissions: t.emulator.apps[0]!.permissions });
      expect((await call(t, 'POST', '/_emulator/apps', { json: { permissions: 'Presence.ReadWrite.All' } })).status).toBe(400);
    } finally {
      await t.close();
    }
  });
});

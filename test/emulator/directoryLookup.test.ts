import { describe, expect, it } from 'vitest';
import { appToken, call, startTestEmulator, userToken, useEmulator } from '../helpers/emulator.js';

const env = useEmulator();

describe('GET /users/{id | userPrincipalName} and /me (user-get page)', () => {
  it('looks a user up by user principal name or id, with $select', async () => {
    const t = env.current;
    const token = await appToken(t);
    const user = t.emulator.users[1]!;
    const byUpn = await call(t, 'GET', `/v1.0/users/${encodeURIComponent(user.userPrincipalName.toUpperCase())}?$select=id,displayName`, { token });
    expect(byUpn.status).toBe(200);
    expect(byUpn.body).toEqual({ '@odata.context': expect.stringContaining('$metadata#users(id,displayName)'), id: user.id, displayName: user.displayName });
    const byId = await call(t, 'GET', `/v1.0/users/${user.id}`, { token });
    expect(byId.body).toMatchObject({ id: user.id, userPrincipalName: user.userPrincipalName });
    const badField = await call(t, 'GET', `/v1.0/users/${user.id}?$select=id,shoeSize`, { token });
    expect(badField.status).toBe(400);
  });

  it('answers 404 Request_ResourceNotFound for an unknown user principal name', async () => {
    const t = env.current;
    const res = await call(t, 'GET', '/v1.0/users/nobody%40contoso.example?$select=id', { token: await appToken(t) });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('Request_ResourceNotFound');
    expect(res.body.error.message).toContain('nobody@contoso.example');
  });

  it('needs User.ReadBasic.All (or more) in application mode: 403 Authorization_RequestDenied without it', async () => {
    const t = await startTestEmulator({ appPermissions: ['Presence.ReadWrite.All'] });
    try {
      const res = await call(t, 'GET', `/v1.0/users/${encodeURIComponent(t.emulator.users[0]!.userPrincipalName)}?$select=id`, { token: await appToken(t) });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('Authorization_RequestDenied');
    } finally {
      await t.close();
    }
  });

  it('delegated: /me needs User.Read; an app token gets 400 on /me', async () => {
    const t = env.current;
    const user = t.emulator.users[0]!;
    const { accessToken } = await userToken(t, 0, 'https://graph.microsoft.com/Presence.ReadWrite https://graph.microsoft.com/User.Read openid profile offline_access');
    const me = await call(t, 'GET', '/v1.0/me?$select=id,displayName,userPrincipalName', { token: accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: user.id, displayName: user.displayName, userPrincipalName: user.userPrincipalName });
    // another user needs User.ReadBasic.All, which the emulator's app does not hold as a delegated permission
    const other = await call(t, 'GET', `/v1.0/users/${encodeURIComponent(t.emulator.users[1]!.userPrincipalName)}?$select=id`, { token: accessToken });
    expect(other.status).toBe(403);
    expect((await call(t, 'GET', '/v1.0/me', { token: await appToken(t) })).status).toBe(400);
  });
});

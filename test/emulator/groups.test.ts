import { describe, expect, it } from 'vitest';
import { appToken, call, startTestEmulator, type TestEmulator } from '../helpers/emulator.js';

const MEMBER_PERMS = ['Presence.ReadWrite.All', 'GroupMember.Read.All'];

async function withEmulator(options: Parameters<typeof startTestEmulator>[0], fn: (t: TestEmulator) => Promise<void>): Promise<void> {
  const t = await startTestEmulator(options);
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

/** Follows @odata.nextLink to the end; the pages as answered. */
async function allPages(t: TestEmulator, firstPath: string, token: string): Promise<{ pages: number; value: Record<string, unknown>[] }> {
  let path: string | undefined = firstPath;
  const value: Record<string, unknown>[] = [];
  let pages = 0;
  while (path !== undefined) {
    const res = await call(t, 'GET', path, { token });
    expect(res.status).toBe(200);
    pages += 1;
    value.push(...(res.body.value as Record<string, unknown>[]));
    const next = res.body['@odata.nextLink'] as string | undefined;
    if (next !== undefined) expect(next.startsWith(t.emulator.graphBaseUrl)).toBe(true);
    path = next?.slice(t.emulator.graphBaseUrl.length);
  }
  return { pages, value };
}

describe('groups: GET /groups/{id}/members and /transitiveMembers (group-list-members, group-list-transitivemembers)', () => {
  it('pages with $top and @odata.nextLink, $select keeps only the asked properties', async () => {
    await withEmulator({ appPermissions: MEMBER_PERMS }, async (t) => {
      const e = t.emulator;
      const users = e.addUsers(Array.from({ length: 7 }, (_, i) => ({ userPrincipalName: `p${i}@contoso.example` })));
      const group = e.addGroup({ displayName: 'Desk staff', members: users.map((u) => u.id) });
      const token = await appToken(t);
      const { pages, value } = await allPages(t, `/v1.0/groups/${group.id}/transitiveMembers?$select=id,userPrincipalName&$top=3`, token);
      expect(pages).toBe(3);
      expect(value.map((v) => v.id)).toEqual(users.map((u) => u.id));
      expect(value[0]).toEqual({ '@odata.type': '#microsoft.graph.user', id: users[0]!.id, userPrincipalName: 'p0@contoso.example' });
      const first = await call(t, 'GET', `/v1.0/groups/${group.id}/members?$top=3`, { token });
      expect(first.body['@odata.nextLink']).toContain('$top=3');
      expect(first.body.value[0]).toMatchObject({ displayName: 'p0', mail: 'p0@contoso.example' });
    });
  });

  it('uses the page size of 100 when $top is absent, and refuses $top past 999', async () => {
    await withEmulator({ appPermissions: MEMBER_PERMS }, async (t) => {
      const e = t.emulator;
      const users = e.addUsers(Array.from({ length: 150 }, (_, i) => ({ userPrincipalName: `u${i}@contoso.example` })));
      const group = e.addGroup({ displayName: 'Big', members: users.map((u) => u.userPrincipalName) });
      const token = await appToken(t);
      const first = await call(t, 'GET', `/v1.0/groups/${group.id}/members`, { token });
      expect(first.body.value).toHaveLength(100);
      expect(first.body['@odata.nextLink']).toBeDefined();
      const tooBig = await call(t, 'GET', `/v1.0/groups/${group.id}/members?$top=1000`, { token });
      expect(tooBig.status).toBe(400);
      const badToken = await call(t, 'GET', `/v1.0/groups/${group.id}/members?$skiptoken=zzz`, { token });
      expect(badToken.status).toBe(400);
    });
  });

  it('counts nested groups for transitiveMembers (the group listed too, each user once), not for members', async () => {
    await withEmulator({ appPermissions: MEMBER_PERMS }, async (t) => {
      const e = t.emulator;
      const [a, b, c] = e.users;
      const inner = e.addGroup({ displayName: 'Inner', members: [b!.id, c!.id] });
      const outer = e.addGroup({ displayName: 'Outer', members: [a!.id, inner.id, b!.id] });
      e.addGroupMembers(inner.id, [outer.id]); // a cycle must not loop
      const token = await appToken(t);
      const direct = await call(t, 'GET', `/v1.0/groups/${outer.id}/members?$select=id`, { token });
      expect(direct.body.value.map((v: { id: string }) => v.id)).toEqual([a!.id, inner.id, b!.id]);
      const transitive = await allPages(t, `/v1.0/groups/${outer.id}/transitiveMembers?$select=id,userPrincipalName`, token);
      const userIds = transitive.value.filter((v) => v['@odata.type'] === '#microsoft.graph.user').map((v) => v.id);
      expect(userIds.sort()).toEqual([a!.id, b!.id, c!.id].sort());
      expect(transitive.value.find((v) => v.id === inner.id)).toEqual({ '@odata.type': '#microsoft.graph.group', id: inner.id });
    });
  });

  it('403 Authorization_RequestDenied without GroupMember.Read.All, Group.Read.All or Directory.Read.All; Directory.Read.All is enough', async () => {
    await withEmulator({}, async (t) => {
      const group = t.emulator.groups[0]!;
      const res = await call(t, 'GET', `/v1.0/groups/${group.id}/transitiveMembers`, { token: await appToken(t) });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('Authorization_RequestDenied');
      expect(res.body.error.message).toBe('Insufficient privileges to complete the operation.');
      expect(res.body.error.innerError['request-id']).toBeDefined();
    });
    await withEmulator({ appPermissions: ['Presence.ReadWrite.All', 'Directory.Read.All'] }, async (t) => {
      const res = await call(t, 'GET', `/v1.0/groups/${t.emulator.groups[0]!.id}/transitiveMembers`, { token: await appToken(t) });
      expect(res.status).toBe(200);
      expect(res.body.value).toHaveLength(3);
    });
  });

  it('404 Request_ResourceNotFound for an unknown group, 401 without a token, 405 for POST', async () => {
    await withEmulator({ appPermissions: MEMBER_PERMS }, async (t) => {
      const token = await appToken(t);
      const missing = await call(t, 'GET', '/v1.0/groups/00000000-0000-0000-0000-000000000001/transitiveMembers', { token });
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('Request_ResourceNotFound');
      const noToken = await call(t, 'GET', `/v1.0/groups/${t.emulator.groups[0]!.id}/members`);
      expect(noToken.status).toBe(401);
      const post = await call(t, 'POST', `/v1.0/groups/${t.emulator.groups[0]!.id}/members`, { token, json: {} });
      expect(post.status).toBe(405);
    });
  });

  it('control routes add users, make a group, add and remove members at runtime', async () => {
    await withEmulator({ appPermissions: MEMBER_PERMS }, async (t) => {
      const added = await call(t, 'POST', '/_emulator/users', { json: { users: [{ userPrincipalName: 'new.one@contoso.example' }, { userPrincipalName: 'new.two@contoso.example' }] } });
      expect(added.status).toBe(201);
      const [one, two] = added.body.value as { id: string }[];
      const made = await call(t, 'POST', '/_emulator/groups', { json: { displayName: 'Runtime', members: [one!.id] } });
      expect(made.status).toBe(201);
      const groupId = made.body.id as string;
      expect((await call(t, 'POST', `/_emulator/groups/${groupId}/members`, { json: { ids: ['new.two@contoso.example'] } })).status).toBe(200);
      const token = await appToken(t);
      const list = async (): Promise<string[]> => ((await call(t, 'GET', `/v1.0/groups/${groupId}/transitiveMembers?$select=id`, { token })).body.value as { id: string }[]).map((v) => v.id);
      expect(await list()).toEqual([one!.id, two!.id]);
      expect((await call(t, 'DELETE', `/_emulator/groups/${groupId}/members/${one!.id}`)).status).toBe(204);
      expect(await list()).toEqual([two!.id]);
      expect((await call(t, 'DELETE', `/_emulator/groups/${groupId}/members/${one!.id}`)).status).toBe(404);
      expect((await call(t, 'POST', '/_emulator/users', { json: { userPrincipalName: 'new.two@contoso.example' } })).status).toBe(409);
      expect((await call(t, 'GET', `/_emulator/groups/${groupId}`)).body.transitiveUserCount).toBe(1);
    });
  });
});

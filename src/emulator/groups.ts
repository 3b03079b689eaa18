/**
 * Groups of the emulated directory and `GET /groups/{id}/members` and `/transitiveMembers`.
 * https://learn.microsoft.com/graph/api/group-list-members
 * https://learn.microsoft.com/graph/api/group-list-transitivemembers
 * https://learn.microsoft.com/graph/paging
 */
import { randomUUID } from 'node:crypto';
import type { EmulatorCore } from './context.js';
import { findUser, type Directory, type EmulatedGroup, type EmulatedUser } from './directory.js';
import { EmulatorError, type Reply } from './http.js';
import type { Principal } from './identity.js';

/** Application permissions that may list a group's members (least privileged first), per the pages above. */
export const GROUP_MEMBER_PERMISSIONS = ['GroupMember.Read.All', 'GroupMember.ReadWrite.All', 'Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
/** Graph's default page size for members (paging page); `$top` goes up to 999. */
export const DEFAULT_MEMBER_PAGE_SIZE = 100;
export const MAX_MEMBER_PAGE_SIZE = 999;

const USER_MEMBER_FIELDS = ['id', 'displayName', 'userPrincipalName', 'mail', 'givenName', 'surname', 'jobTitle', 'businessPhones', 'mobilePhone', 'officeLocation', 'preferredLanguage'];
const GROUP_MEMBER_FIELDS = ['id', 'displayName', 'description', 'mail', 'mailEnabled', 'securityEnabled'];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function findGroup(directory: Directory, id: string): EmulatedGroup | undefined {
  const key = id.toLowerCase();
  return directory.groups.find((g) => g.id.toLowerCase() === key);
}

type Member = { kind: 'user'; user: EmulatedUser } | { kind: 'group'; group: EmulatedGroup };

function resolveMember(directory: Directory, id: string): Member | undefined {
  const user = findUser(directory, id);
  if (user) return { kind: 'user', user };
  const group = findGroup(directory, id);
  return group ? { kind: 'group', group } : undefined;
}

/**
 * Resolves member ids (object ids or UPNs, as `findUser` and `findGroup` match them) through one
 * index of the directory, so listing a group of N members costs O(N), not N linear scans (a
 * 6,000-member group took over a minute per listing in bench/fleet).
 */
function memberResolver(directory: Directory): (id: string) => Member | undefined {
  const users = new Map<string, EmulatedUser>();
  for (const u of [...directory.users].reverse()) {
    users.set(u.userPrincipalName.toLowerCase(), u);
    users.set(u.id.toLowerCase(), u);
  }
  const groups = new Map<string, EmulatedGroup>();
  for (const g of [...directory.groups].reverse()) groups.set(g.id.toLowerCase(), g);
  return (id) => {
    const key = id.toLowerCase();
    const user = users.get(key);
    if (user) return { kind: 'user', user };
    const group = groups.get(key);
    return group ? { kind: 'group', group } : undefined;
  };
}

/** Direct members, or (transitive) every nested member once, nested groups included, in a stable order. */
export function membersOf(directory: Directory, group: EmulatedGroup, transitive: boolean): Member[] {
  const resolve = memberResolver(directory);
  const out: Member[] = [];
  const seen = new Set<string>([group.id.toLowerCase()]);
  const visit = (g: EmulatedGroup): void => {
    for (const id of g.members) {
      const member = resolve(id);
      if (!member) continue;
      const memberId = (member.kind === 'user' ? member.user.id : member.group.id).toLowerCase();
      if (seen.has(memberId)) continue;
      seen.add(memberId);
      out.push(member);
      if (transitive && member.kind === 'group') visit(member.group);
    }
  };
  visit(group);
  return out;
}

/** Adds a group; `members` are user object ids or UPNs, or group ids. */
export function addGroup(directory: Directory, spec: { displayName: string; id?: string; members?: readonly string[] }): EmulatedGroup {
  if (typeof spec.displayName !== 'string' || spec.displayName === '') throw new EmulatorError(400, 'BadRequest', 'displayName is required');
  const id = spec.id ?? randomUUID();
  if (!GUID.test(id)) throw new EmulatorError(400, 'BadRequest', 'a group id is a GUID');
  if (findGroup(directory, id) || findUser(directory, id)) throw new EmulatorError(409, 'Conflict', `object '${id}' already exists`);
  const group: EmulatedGroup = { id, displayName: spec.displayName, members: [] };
  directory.groups.push(group);
  addGroupMembers(directory, id, spec.members ?? []);
  return group;
}

export function addGroupMembers(directory: Directory, groupId: string, ids: readonly string[]): void {
  const group = findGroup(directory, groupId);
  if (!group) throw new EmulatorError(404, 'NotFound', `no group '${groupId}'`);
  const resolved = ids.map((id) => {
    const member = typeof id === 'string' ? resolveMember(directory, id) : undefined;
    if (!member) throw new EmulatorError(404, 'NotFound', `no user or group '${String(id)}'`);
    return member.kind === 'user' ? member.user.id : member.group.id;
  });
  for (const id of resolved) if (!group.members.some((m) => m.toLowerCase() === id.toLowerCase())) group.members.push(id);
}

/** Removes a direct member; false when it was not one. */
export function removeGroupMember(directory: Directory, groupId: string, memberId: string): boolean {
  const group = findGroup(directory, groupId);
  if (!group) throw new EmulatorError(404, 'NotFound', `no group '${groupId}'`);
  const member = resolveMember(directory, memberId);
  const id = (member ? (member.kind === 'user' ? member.user.id : member.group.id) : memberId).toLowerCase();
  const index = group.members.findIndex((m) => m.toLowerCase() === id);
  if (index < 0) return false;
  group.members.splice(index, 1);
  return true;
}

/** Adds users to the directory (e.g. a tenant of thousands for fleet tests). */
export function addUsers(directory: Directory, specs: readonly { userPrincipalName: string; displayName?: string; id?: string }[]): EmulatedUser[] {
  const added: EmulatedUser[] = [];
  const upns = new Set(directory.users.map((u) => u.userPrincipalName.toLowerCase()));
  for (const spec of specs) {
    if (typeof spec.userPrincipalName !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(spec.userPrincipalName)) throw new EmulatorError(400, 'BadRequest', 'userPrincipalName must look like name@domain');
    const id = spec.id ?? randomUUID();
    if (!GUID.test(id)) throw new EmulatorError(400, 'BadRequest', 'a user id is a GUID');
    if (upns.has(spec.userPrincipalName.toLowerCase())) throw new EmulatorError(409, 'Conflict', `user '${spec.userPrincipalName}' already exists`);
    upns.add(spec.userPrincipalName.toLowerCase());
    const user: EmulatedUser = { id, userPrincipalName: spec.userPrincipalName, displayName: spec.displayName ?? spec.userPrincipalName.split('@')[0] ?? spec.userPrincipalName };
    directory.users.push(user);
    added.push(user);
  }
  return added;
}

export interface MembersRequest {
  readonly groupId: string;
  readonly transitive: boolean;
  readonly version: string;
  readonly query: string;
}

type Fail = (status: number, code: string, message: string) => Reply;

function memberFields(member: Member): Record<string, unknown> {
  if (member.kind === 'user') {
    const u = member.user;
    return { '@odata.type': '#microsoft.graph.user', id: u.id, displayName: u.displayName, userPrincipalName: u.userPrincipalName, mail: u.userPrincipalName, givenName: null, surname: null, jobTitle: null, businessPhones: [], mobilePhone: null, officeLocation: null, preferredLanguage: null };
  }
  const g = member.group;
  return { '@odata.type': '#microsoft.graph.group', id: g.id, displayName: g.displayName, description: null, mail: null, mailEnabled: false, securityEnabled: true };
}

/** Only the selected properties a member's type has (plus `@odata.type`), as Graph does for directoryObjects. */
function selectFields(full: Record<string, unknown>, fields: readonly string[] | undefined): Record<string, unknown> {
  if (!fields) return full;
  const out: Record<string, unknown> = { '@odata.type': full['@odata.type'] };
  for (const f of fields) {
    const key = Object.keys(full).find((k) => k.toLowerCase() === f.toLowerCase());
    if (key !== undefined) out[key] = full[key];
  }
  return out;
}

function parsePaging(params: URLSearchParams, pageSize: number, fail: Fail): { top: number; skip: number } | Reply {
  const topText = params.get('$top');
  const top = topText === null ? pageSize : Number(topText);
  if (!Number.isInteger(top) || top < 1 || top > MAX_MEMBER_PAGE_SIZE) return fail(400, 'Request_BadRequest', `Invalid page size specified: '${topText ?? ''}'. Must be between 1 and ${MAX_MEMBER_PAGE_SIZE} inclusive.`);
  const token = params.get('$skiptoken');
  if (token === null) return { top, skip: 0 };
  const skip = Number(Buffer.from(token, 'base64url').toString('utf8').replace(/^skip:/, ''));
  if (!Number.isInteger(skip) || skip < 0) return fail(400, 'Directory_InvalidSkipToken', 'The specified page token value has expired or is not valid.');
  return { top, skip };
}

/** `GET /groups/{id}/members|transitiveMembers` with `$select`, `$top` and `@odata.nextLink` paging. */
export function listMembers(core: EmulatorCore, principal: Principal, req: MembersRequest, pageSize: number, fail: Fail): Reply {
  const has = (names: readonly string[]): boolean => (principal.kind === 'app' ? principal.roles : principal.scopes).some((p) => names.some((n) => n.toLowerCase() === p.toLowerCase()));
  if (!has(GROUP_MEMBER_PERMISSIONS)) return fail(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
  const group = GUID.test(req.groupId) ? findGroup(core.directory, req.groupId) : undefined;
  if (!group) return fail(404, 'Request_ResourceNotFound', `Resource '${req.groupId}' does not exist or one of its queried reference-property objects are not present.`);
  const params = new URLSearchParams(req.query);
  const paging = parsePaging(params, pageSize, fail);
  if ('status' in paging) return paging;
  const select = params.get('$select');
  const fields = select ? select.split(',').map((f) => f.trim()).filter(Boolean) : undefined;
  const known = [...USER_MEMBER_FIELDS, ...GROUP_MEMBER_FIELDS];
  const unknown = fields?.find((f) => !known.some((k) => k.toLowerCase() === f.toLowerCase()));
  if (unknown !== undefined) return fail(400, 'Request_BadRequest', `Could not find a property named '${unknown}' on type 'microsoft.graph.directoryObject'.`);
  const all = membersOf(core.directory, group, req.transitive);
  const page = all.slice(paging.skip, paging.skip + paging.top).map((m) => selectFields(memberFields(m), fields));
  const relation = req.transitive ? 'transitiveMembers' : 'members';
  const body: Record<string, unknown> = { '@odata.context': `${core.origin}/${req.version}/$metadata#directoryObjects${fields ? `(${fields.join(',')})` : ''}` };
  const next = paging.skip + paging.top;
  if (next < all.length) {
    // Graph writes the `$` of query options as is.
    const query = [...(select ? [`$select=${encodeURIComponent(select)}`] : []), `$top=${paging.top}`, `$skiptoken=${Buffer.from(`skip:${next}`).toString('base64url')}`];
    body['@odata.nextLink'] = `${core.origin}/${req.version}/groups/${group.id}/${relation}?${query.join('&')}`;
  }
  body.value = page;
  return { status: 200, body };
}

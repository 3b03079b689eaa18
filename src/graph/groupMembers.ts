/**
 * Reading an Entra group's members (issue 19): `GET /groups/{id}/transitiveMembers` with
 * `$select` and `$top`, following `@odata.nextLink`, over the bridge's one HTTP stack.
 * https://learn.microsoft.com/graph/api/group-list-transitivemembers
 */
import type { Logger } from '../logger.js';
import { transportError } from './errors.js';
import { graphErrorFrom } from './graphPresenceClient.js';
import type { HttpStack } from './httpStack.js';
import { describeTransportError } from './msalNetworkClient.js';
import { GraphError, type AccessTokenProvider } from './types.js';

/** A group member as read from Graph. */
export interface GroupMember {
  readonly id: string;
  readonly userPrincipalName?: string;
  readonly mail?: string;
  readonly displayName?: string;
}

/** Least privileged application permission that lists a group's members. */
export const GROUP_MEMBER_PERMISSION = 'GroupMember.Read.All';

export const GROUP_PERMISSION_HINT =
  `grant the application permission ${GROUP_MEMBER_PERMISSION} to the app registration (Entra admin center > App registrations > your app > API permissions > Add a permission > Microsoft Graph > Application permissions > GroupMember > GroupMember.Read.All) and press "Grant admin consent"`;

export interface GroupMemberReaderDeps {
  readonly http: HttpStack;
  readonly tokens: AccessTokenProvider;
  /** `https://graph.microsoft.com/v1.0` (or the emulator's). */
  readonly graphBaseUrl: string;
  readonly logger: Logger;
  readonly now: () => number;
  /** `$top` of each page (default 999, Graph's most). */
  readonly pageSize?: number;
}

/** Pages are refused past this many (a nextLink loop must not run forever): 1,000 × 999 members. */
const MAX_PAGES = 1000;

interface MembersPage {
  value?: unknown;
  '@odata.nextLink'?: unknown;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function toMember(item: unknown): GroupMember | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const o = item as Record<string, unknown>;
  // transitiveMembers lists nested groups (and devices, contacts) too: only users count
  if (o['@odata.type'] !== '#microsoft.graph.user') return undefined;
  const id = str(o.id);
  if (id === undefined) return undefined;
  const upn = str(o.userPrincipalName);
  const mail = str(o.mail);
  const displayName = str(o.displayName);
  return { id, ...(upn ? { userPrincipalName: upn } : {}), ...(mail ? { mail } : {}), ...(displayName ? { displayName } : {}) };
}

export class GroupMemberReader {
  constructor(private readonly deps: GroupMemberReaderDeps) {}

  /** Every user among the group's transitive members, each once. Throws GraphError (with what to grant on 403). */
  async read(groupId: string): Promise<GroupMember[]> {
    const base = new URL(this.deps.graphBaseUrl);
    let url: string | undefined = `${this.deps.graphBaseUrl}/groups/${encodeURIComponent(groupId)}/transitiveMembers?$select=id,userPrincipalName,mail,displayName&$top=${this.deps.pageSize ?? 999}`;
    const members = new Map<string, GroupMember>();
    let pages = 0;
    while (url !== undefined) {
      if (++pages > MAX_PAGES) throw new GraphError(`reading group ${groupId}: more than ${MAX_PAGES} pages`, { code: 'UNEXPECTED', hint: 'Graph kept answering with a next page; try again later', retryable: true });
      const page = await this.page(url, groupId);
      for (const item of Array.isArray(page.value) ? page.value : []) {
        const member = toMember(item);
        if (member) members.set(member.id.toLowerCase(), member);
      }
      const next = str(page['@odata.nextLink']);
      // the token goes only where Graph is
      if (next !== undefined && new URL(next).origin !== base.origin) {
        throw new GraphError(`reading group ${groupId}: the next page link points away from Graph (${new URL(next).origin})`, { code: 'UNEXPECTED', hint: 'a proxy may have rewritten the answer; check the proxy setting and graph.baseUrl', retryable: false });
      }
      url = next;
    }
    this.deps.logger.debug(`group ${groupId}: ${members.size} user(s) in ${pages} page(s)`);
    return [...members.values()];
  }

  private async page(url: string, groupId: string): Promise<MembersPage> {
    const operation = `reading members of group ${groupId}`;
    const attempt = async (forceRefresh: boolean) => {
      const token = await this.deps.tokens.getToken({ forceRefresh });
      try {
        return await this.deps.http.send({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
      } catch (error) {
        throw transportError(`${operation}: cannot reach Graph at ${new URL(url).origin}: ${describeTransportError(error)}`, error, 'Graph');
      }
    };
    let response = await attempt(false);
    if (response.status === 401) response = await attempt(true);
    if (response.status !== 200) {
      const error = graphErrorFrom(response, { operation, mode: 'application', now: this.deps.now() });
      if (error.code === 'FORBIDDEN') throw new GraphError(`${error.message}: the app may not read group members`, { ...error, code: error.code, hint: GROUP_PERMISSION_HINT, retryable: false, cause: error });
      if (error.code === 'NOT_FOUND') throw new GraphError(`${error.message}: no group ${groupId} in the tenant`, { ...error, code: error.code, hint: 'check userGroups[].id: the group\'s object id (Entra admin center > Groups > the group > Object ID)', retryable: false, cause: error });
      throw error;
    }
    try {
      return JSON.parse(response.text) as MembersPage;
    } catch {
      throw new GraphError(`${operation}: Graph answered something that is not JSON`, { code: 'UNEXPECTED', hint: 'a proxy may have answered instead of Graph; check the proxy setting and graph.baseUrl', retryable: true });
    }
  }
}

/**
 * Keys of users read from a group (issue 19): a member's key comes from the local part of an
 * attribute (the user principal name unless the config names another), made safe for topics and
 * file names. Pure.
 */
import { createHash } from 'node:crypto';
import type { GroupMember } from '../graph/groupMembers.js';

export type { GroupMember };


export type KeyFrom = 'userPrincipalName' | 'mail' | 'id';

export interface KeyedMember extends GroupMember {
  readonly key: string;
}

export interface KeyCollision {
  /** The key the members would all have had. */
  readonly base: string;
  /** The keys each got instead (object id → key). */
  readonly assigned: readonly { readonly id: string; readonly key: string }[];
}

const MAX_KEY = 48;

/** Lower case; letters, digits, `_` and `-` kept (what `users[].key` allows); anything else one `-`; no leading or trailing `-`/`_`. */
export function safeKey(text: string): string {
  const cleaned = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[_-]+|[_-]+$/g, '')
    .slice(0, MAX_KEY)
    .replace(/[_-]+$/g, '');
  return cleaned === '' ? 'user' : cleaned;
}

/** Six hex digits of SHA-256 of the object id: the same on every instance, every run. */
export function shortHash(id: string): string {
  return createHash('sha256').update(id.toLowerCase()).digest('hex').slice(0, 6);
}

/** The key a member would get without collisions. */
export function baseKey(member: GroupMember, keyFrom: KeyFrom): string {
  const source = keyFrom === 'id' ? member.id : keyFrom === 'mail' ? (member.mail ?? member.userPrincipalName ?? member.id) : (member.userPrincipalName ?? member.id);
  const local = keyFrom === 'id' ? source : (source.split('@')[0] ?? source);
  return safeKey(local);
}

/**
 * Keys for every member. Members whose base keys collide (with each other or with a key in
 * `taken`, e.g. a `users[]` entry) all get `base-<hash of object id>`: which member joined first
 * does not matter, so every instance and every run gives the same answer.
 */
export function assignKeys(members: readonly GroupMember[], keyFrom: KeyFrom, taken: ReadonlySet<string> = new Set()): { members: KeyedMember[]; collisions: KeyCollision[] } {
  const byBase = new Map<string, GroupMember[]>();
  for (const member of members) {
    const base = baseKey(member, keyFrom);
    const list = byBase.get(base);
    if (list) list.push(member);
    else byBase.set(base, [member]);
  }
  const out: KeyedMember[] = [];
  const collisions: KeyCollision[] = [];
  for (const [base, list] of byBase) {
    if (list.length === 1 && !taken.has(base)) {
      out.push({ ...list[0]!, key: base });
      continue;
    }
    const assigned = list.map((m) => ({ id: m.id, key: `${base.slice(0, MAX_KEY - 7)}-${shortHash(m.id)}` }));
    collisions.push({ base, assigned });
    list.forEach((m, i) => out.push({ ...m, key: assigned[i]!.key }));
  }
  return { members: out, collisions };
}

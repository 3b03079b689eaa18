/**
 * The config one instance of a fleet runs (issue 19): `users[]` plus the members of
 * `userGroups`, keyed the same on every instance, only this shard's users kept, input templates
 * expanded for them, and this shard's share of the request budget. Pure.
 */
import type { PresenceBridgeConfig, UserConfig } from '../config/schema.js';
import { expandInputs, type Expansion } from './inputTemplates.js';
import { owns, type Shard } from './shard.js';
import { assignKeys, type GroupMember, type KeyCollision } from './userKeys.js';

export interface FleetPlan {
  /** What the bridge of this instance runs. */
  readonly config: PresenceBridgeConfig;
  /** Users of the whole fleet (every shard), after keys were assigned. */
  readonly allUsers: readonly UserConfig[];
  readonly collisions: readonly KeyCollision[];
  readonly templates: Expansion['templates'];
  /** Group members that were already in `users[]` (by object id): the `users[]` entry wins. */
  readonly duplicates: number;
}

/** `members` per group id, as read from Graph. */
export function planFleet(config: PresenceBridgeConfig, members: ReadonlyMap<string, readonly GroupMember[]>, shard: Shard): FleetPlan {
  const users: UserConfig[] = [...config.users];
  const taken = new Set(users.map((u) => u.key.toLowerCase()));
  const ids = new Set(users.map((u) => u.id.toLowerCase()));
  const collisions: KeyCollision[] = [];
  let duplicates = 0;
  for (const group of config.userGroups) {
    const fresh = (members.get(group.id.toLowerCase()) ?? []).filter((m) => {
      const known = ids.has(m.id.toLowerCase()) || (m.userPrincipalName !== undefined && ids.has(m.userPrincipalName.toLowerCase()));
      if (known) duplicates += 1;
      return !known;
    });
    const keyed = assignKeys(fresh, group.keyFrom, taken);
    collisions.push(...keyed.collisions);
    for (const m of keyed.members.sort((a, b) => a.key.localeCompare(b.key))) {
      taken.add(m.key);
      ids.add(m.id.toLowerCase());
      users.push({ key: m.key, id: m.id, ...(m.displayName !== undefined ? { name: m.displayName } : {}) });
    }
  }
  const mine = users.filter((u) => owns(shard, u.id));
  const expansion = expandInputs(config.inputs, mine.map((u) => u.key));
  const budget = shard.count > 1 ? Math.max(1, Math.floor(config.graph.maxRequestsPer30s / shard.count)) : config.graph.maxRequestsPer30s;
  return {
    config: { ...config, users: mine, inputs: expansion.inputs, graph: { ...config.graph, maxRequestsPer30s: budget } },
    allUsers: users,
    collisions,
    templates: expansion.templates,
    duplicates,
  };
}

/** Keys that joined and left between two plans (by object id; a re-keyed user is both). */
export function membershipChange(before: readonly UserConfig[], after: readonly UserConfig[]): { joined: UserConfig[]; left: UserConfig[] } {
  const sig = (u: UserConfig): string => `${u.id.toLowerCase()} ${u.key}`;
  const was = new Set(before.map(sig));
  const now = new Set(after.map(sig));
  return { joined: after.filter((u) => !was.has(sig(u))), left: before.filter((u) => !now.has(sig(u))) };
}

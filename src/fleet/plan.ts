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

/**
 * The MQTT client id of a shard: stable across restarts (the broker keeps its persistent session
 * and queues its QoS 1 inputs while it is down) and different per shard (one id, one session).
 */
export function shardClientId(configured: string | undefined, shard: Shard): string | undefined {
  if (shard.count <= 1) return configured;
  return `${configured ?? 'presence-bridge'}_shard-${shard.index}-of-${shard.count}`;
}

/**
 * The auth a shard signs in with: its own app registration when `fleet.shardAuth` gives one
 * (entry I for shard I), else `auth` as configured.
 */
export function shardAuthOf(config: PresenceBridgeConfig, shard: Shard): PresenceBridgeConfig['auth'] {
  const ownApp = shard.count > 1 ? config.fleet?.shardAuth?.[shard.index] : undefined;
  return ownApp ? { ...config.auth, clientId: ownApp.clientId, clientSecret: ownApp.clientSecret, certificate: undefined } : config.auth;
}

/** `members` per group id, as read from Graph. */
export function planFleet(config: PresenceBridgeConfig, members: ReadonlyMap<string, readonly GroupMember[]>, shard: Shard): FleetPlan {
  const users: UserConfig[] = [...config.users];
  const taken = new Set(users.map((u) => u.key.toLowerCase()));
  const ids = new Set(users.map((u) => u.id.toLowerCase()));
  const collisions: KeyCollision[] = [];
  let duplicates = 0;
  for (const group of config.userGroups ?? []) {
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
  // a shard with its own app registration has that registration's whole budget
  const ownApp = shard.count > 1 ? config.fleet?.shardAuth?.[shard.index] : undefined;
  const budget = shard.count > 1 && !ownApp ? Math.max(1, Math.floor(config.graph.maxRequestsPer30s / shard.count)) : config.graph.maxRequestsPer30s;
  const auth = shardAuthOf(config, shard);
  return {
    config: { ...config, auth, users: mine, inputs: expansion.inputs, graph: { ...config.graph, maxRequestsPer30s: budget }, ...(config.mqtt ? { mqtt: { ...config.mqtt, clientId: shardClientId(config.mqtt.clientId, shard) } } : {}) },
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

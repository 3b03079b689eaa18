/**
 * Shards (issue 19): which instance owns which user. A user belongs to shard
 * `hash(id) mod count`, where `id` is the user's `users[].id` lower-cased (the object id for
 * group members): it never changes when a user is renamed, and every instance computes the same
 * owner without talking to the others. Pure.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export interface Shard {
  readonly index: number;
  readonly count: number;
}

export const SINGLE_SHARD: Shard = { index: 0, count: 1 };

/** `I/N` (0 ≤ I < N); throws with the reason otherwise. */
export function parseShard(text: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!match) throw new Error(`shard "${text}" must look like I/N, e.g. 0/3`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || count > 1024) throw new Error(`shard "${text}": N must be 1 to 1024`);
  if (index >= count) throw new Error(`shard "${text}": I must be 0 to ${count - 1}`);
  return { index, count };
}

/** A StatefulSet pod's ordinal from its hostname (`presence-bridge-2` → 2), or undefined. */
export function ordinalFromHostname(hostname: string): number | undefined {
  const match = /-(\d+)$/.exec(hostname.split('.')[0] ?? '');
  return match ? Number(match[1]) : undefined;
}

/** 0 … count-1 from the first 8 bytes of SHA-256 of the lower-cased id. */
export function shardOf(id: string, count: number): number {
  if (count <= 1) return 0;
  const digest = createHash('sha256').update(id.toLowerCase()).digest();
  return Number(digest.readBigUInt64BE(0) % BigInt(count));
}

export function owns(shard: Shard, id: string): boolean {
  return shardOf(id, shard.count) === shard.index;
}

/**
 * The shard this instance is, in order: `--shard I/N`, the config's `fleet.shard`, then the
 * hostname's ordinal with N from `fleet.shardCount` or PRESENCE_BRIDGE_SHARDS; else 0/1.
 */
export function resolveShard(sources: { flag?: string | undefined; config?: string | undefined; shardCount?: number | undefined; hostname: string; env: NodeJS.ProcessEnv }): Shard & { from: string } {
  if (sources.flag !== undefined) return { ...parseShard(sources.flag), from: '--shard' };
  if (sources.config !== undefined) return { ...parseShard(sources.config), from: 'fleet.shard' };
  const fromEnv = sources.env.PRESENCE_BRIDGE_SHARDS;
  const count = sources.shardCount ?? (fromEnv !== undefined && fromEnv.trim() !== '' ? Number(fromEnv) : undefined);
  if (count !== undefined && count > 1) {
    if (!Number.isInteger(count)) throw new Error(`PRESENCE_BRIDGE_SHARDS "${fromEnv ?? ''}" must be a whole number`);
    const ordinal = ordinalFromHostname(sources.hostname);
    if (ordinal === undefined) throw new Error(`${count} shards are configured, but hostname "${sources.hostname}" ends in no ordinal (name-0, name-1, …): give --shard I/N`);
    return { ...parseShard(`${ordinal}/${count}`), from: `hostname ${sources.hostname}` };
  }
  return { ...SINGLE_SHARD, from: 'default' };
}

/** The storage folder of a shard: its own ledger, intents and caches (`<storage>/shard-1-of-3`); the folder itself for 0/1. */
export function shardStoragePath(storagePath: string, shard: Shard): string {
  return shard.count <= 1 ? storagePath : join(storagePath, `shard-${shard.index}-of-${shard.count}`);
}

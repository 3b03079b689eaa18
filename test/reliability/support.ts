import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Emulator } from '../../src/emulator/index.js';

/** RELIABILITY_LONG=1 runs the long form (more days, more fuzz); CI runs the bounded one. */
export const LONG = process.env.RELIABILITY_LONG === '1';

export const RESULTS_DIR = join(process.cwd(), 'test-output', 'reliability');

/** One row of the results table: a kind of fault, how often it was injected and survived. */
export interface FaultRow {
  fault: string;
  injected: number;
  survived: number;
  statesLost: number;
  /** Worst time from the fault's end to every user's latest desired state at Graph. */
  worstRecovery: string;
  note?: string;
}

/** Collects rows per kind of fault and writes them for scripts/RELIABILITY.md. */
export class Results {
  private readonly rows = new Map<string, FaultRow & { worstMs: number; unit: 'emulated' | 'real' }>();
  private readonly suite: string;
  constructor(suite: string) {
    this.suite = suite;
  }

  record(fault: string, outcome: { survived: boolean; statesLost: number; recoveryMs: number; unit: 'emulated' | 'real'; note?: string }): void {
    const row = this.rows.get(fault) ?? { fault, injected: 0, survived: 0, statesLost: 0, worstRecovery: '', worstMs: 0, unit: outcome.unit };
    row.injected++;
    if (outcome.survived) row.survived++;
    row.statesLost += outcome.statesLost;
    row.worstMs = Math.max(row.worstMs, outcome.recoveryMs);
    row.worstRecovery = `${(row.worstMs / 1000).toFixed(1)} s ${row.unit}`;
    if (outcome.note) row.note = outcome.note;
    this.rows.set(fault, row);
  }

  write(extra: Record<string, unknown> = {}): void {
    mkdirSync(RESULTS_DIR, { recursive: true });
    const rows = [...this.rows.values()].map(({ worstMs: _w, unit: _u, ...row }) => row);
    writeFileSync(join(RESULTS_DIR, `${this.suite}.json`), JSON.stringify({ suite: this.suite, long: LONG, at: new Date().toISOString(), rows, ...extra }, null, 2));
  }
}

/** Every results file written so far, as a markdown table. */
export function resultsTable(): string {
  const files = readdirSync(RESULTS_DIR).filter((f) => f.endsWith('.json')).sort();
  const lines = ['| suite | fault | injected | survived | states lost | worst recovery after the fault ended | note |', '| --- | --- | ---: | ---: | ---: | ---: | --- |'];
  for (const f of files) {
    const data = JSON.parse(readFileSync(join(RESULTS_DIR, f), 'utf8')) as { suite: string; rows: FaultRow[] };
    for (const r of data.rows) lines.push(`| ${data.suite} | ${r.fault} | ${r.injected} | ${r.survived} | ${r.statesLost} | ${r.worstRecovery} | ${r.note ?? ''} |`);
  }
  return lines.join('\n');
}

/** Unhandled rejections seen while installed; the suites assert there are none. */
export function watchRejections(): { seen: unknown[]; dispose(): void } {
  const seen: unknown[] = [];
  const listener = (reason: unknown): void => {
    seen.push(reason);
  };
  process.on('unhandledRejection', listener);
  return { seen, dispose: () => process.off('unhandledRejection', listener) };
}

let gcFn: (() => void) | undefined;
/** Full garbage collection (the test process is not started with --expose-gc). */
export function collectGarbage(): void {
  if (!gcFn) {
    setFlagsFromString('--expose_gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
}

/** Heap in use after a full collection, in bytes. */
export function settledHeap(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** The pair our app's session shows at Graph for a user now, or null when it holds none. */
export function sessionPair(emulator: Emulator, userId: string): string | null {
  const clientId = emulator.apps[0]!.clientId;
  const s = emulator.sessionsOf(userId).find((x) => x.clientId === clientId);
  // What the session shows now: an Available session that was not renewed reads AvailableInactive.
  return s ? `${s.current.availability}/${s.current.activity}` : null;
}

/** Graph's session precedence, for the test's own model of what each user should show. */
const RANK: Record<string, number> = { DoNotDisturb: 4, Busy: 3, Available: 2, Away: 1 };

/**
 * The test's model of the desired state: the latest pair per input per user, resolved like the
 * arbiter (higher availability wins; among equals the latest). Kept apart from the bridge so a
 * lost or misapplied signal shows up as a difference.
 */
export class DesiredModel {
  private readonly inputs = new Map<string, Map<string, { pair: string | null; seq: number }>>();
  private seq = 0;
  readonly users: readonly string[];
  constructor(users: readonly string[]) {
    this.users = users;
    for (const u of users) this.inputs.set(u, new Map());
  }
  set(user: string, input: string, pair: string | null): void {
    this.inputs.get(user)!.set(input, { pair, seq: ++this.seq });
  }
  desired(user: string): string | null {
    let best: { pair: string; seq: number } | null = null;
    for (const v of this.inputs.get(user)!.values()) {
      if (v.pair === null) continue;
      const rank = RANK[v.pair.split('/')[0]!] ?? 0;
      const bestRank = best ? (RANK[best.pair.split('/')[0]!] ?? 0) : -1;
      if (rank > bestRank || (rank === bestRank && best !== null && v.seq > best.seq)) best = { pair: v.pair, seq: v.seq };
    }
    return best?.pair ?? null;
  }
}

export { seededRandom } from '../helpers/random.js';

const FUZZ_WORDS = ['busy', 'BUSY', ' busy ', 'dnd', 'free', 'off', 'OFFHOOK', 'ONHOOK', 'clear', 'toggle', 'Busy/InACall', 'Busy/Busy', 'Offline/OffWork', 'Available/Available', 'true', 'false', '1', '0', 'null', '{}', '[]', '""', '{"state":', '{"action":"single"}', '{"availability":"Busy","activity":"InACall","expiration":"PT99999H"}', '{"availability":"Nope"}', '\u0000', '\ufffd', '🔥', 'A'.repeat(5000)];

/**
 * A fuzzed payload: random bytes, near-miss words (case, spaces, NULs), broken and hostile JSON,
 * long strings. `avoid` values are never produced as-is (they would be real commands).
 */
export function fuzzPayload(random: () => number, avoid: readonly string[] = [], maxLongBytes = 300_000): Buffer {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  for (;;) {
    let out: Buffer;
    const kind = random();
    if (kind < 0.3) {
      out = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 64) }, () => Math.floor(random() * 256)));
    } else if (kind < 0.6) {
      out = Buffer.from(`${pick(FUZZ_WORDS)}${random() < 0.5 ? pick(FUZZ_WORDS) : ''}`);
    } else if (kind < 0.8) {
      const value = random() < 0.5 ? pick(FUZZ_WORDS) : Math.floor(random() * 1e9);
      out = Buffer.from(JSON.stringify({ state: value, action: pick(FUZZ_WORDS), nested: { state: { hook: value } }, n: random() }));
    } else if (kind < 0.99) {
      out = Buffer.from(`{"state":"${pick(FUZZ_WORDS)}"`.repeat(1 + Math.floor(random() * 3)));
    } else {
      out = Buffer.alloc(Math.floor(random() * maxLongBytes), 0x41 + Math.floor(random() * 26));
    }
    const text = out.toString('utf8').trim().toLowerCase();
    if (!avoid.some((a) => a.toLowerCase() === text)) return out;
  }
}

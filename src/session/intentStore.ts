import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../files/atomicFile.js';
import { CoalescedWrites } from '../files/coalescedWrites.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import type { StoredIntent } from '../presence/intentRestore.js';
import type { Intent } from '../presence/intent.js';
import type { ToggleState } from '../presence/mapping.js';
import { formatPresence, parseSessionPair } from '../presence/presencePair.js';
import type { Clock } from '../shared/clock.js';

export const INTENT_STORE_FILE = 'presence-bridge-intents.json';

interface IntentRecord {
  readonly user: string;
  readonly input: string;
  readonly pair: string;
  readonly at: number;
  readonly until?: number;
  readonly toggle?: { readonly position: number; readonly until?: number };
}

interface IntentFile {
  readonly version: 1;
  /** When this run last wrote the file: it was alive and holding these intents then. */
  readonly aliveAt: number;
  readonly intents: IntentRecord[];
}

export interface LoadedIntents {
  readonly intents: StoredIntent[];
  readonly aliveAt: number | undefined;
}

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function parseRecord(raw: unknown): StoredIntent | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Partial<Record<keyof IntentRecord, unknown>>;
  if (typeof r.user !== 'string' || typeof r.input !== 'string' || typeof r.pair !== 'string' || !isFiniteNumber(r.at)) return undefined;
  const pair = parseSessionPair(r.pair);
  if (!pair) return undefined;
  if (r.until !== undefined && !isFiniteNumber(r.until)) return undefined;
  let toggle: ToggleState | undefined;
  if (typeof r.toggle === 'object' && r.toggle !== null) {
    const t = r.toggle as { position?: unknown; until?: unknown };
    if (isFiniteNumber(t.position) && Number.isInteger(t.position)) toggle = isFiniteNumber(t.until) ? { position: t.position, until: t.until } : { position: t.position };
  }
  return {
    user: r.user,
    input: r.input,
    pair,
    at: r.at,
    ...(r.until !== undefined ? { until: r.until } : {}),
    ...(toggle ? { toggle } : {}),
  };
}

/**
 * Each input's latest set intent per user, kept in the storage folder so a restart restores what
 * the inputs said (issue 20). Recording is synchronous and only marks the file dirty: the write
 * runs after the caller returned, never between a signal and its setPresence, and changes made
 * while a write is in flight or waiting are coalesced into one next write (writes are spaced by
 * WRITE_SPACING_MS while changes keep coming; the first after a quiet spell goes at once). Writes are atomic (temporary
 * file, then rename) and mode 0600, through the shared state-file writer.
 */
export class IntentStore {
  private readonly records = new Map<string, StoredIntent>();
  /** Whole-file rewrites, coalesced and spaced (at most one per WRITE_SPACING_MS while changes keep coming). */
  private readonly writes = new CoalescedWrites(() => this.write());
  readonly file: string;

  constructor(
    storagePath: string,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.file = join(storagePath, INTENT_STORE_FILE);
  }

  /** What a previous run left, as on disk (records it cannot read are skipped with a warning). */
  async load(): Promise<LoadedIntents> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn(`cannot read ${this.file}: ${errorMessage(error)}`);
      return { intents: [], aliveAt: undefined };
    }
    try {
      const parsed = JSON.parse(text) as Partial<Record<keyof IntentFile, unknown>>;
      const raw = Array.isArray(parsed.intents) ? (parsed.intents as unknown[]) : [];
      const intents: StoredIntent[] = [];
      for (const entry of raw) {
        const intent = parseRecord(entry);
        if (intent) intents.push(intent);
      }
      if (intents.length < raw.length) this.logger.warn(`${this.file}: skipped ${raw.length - intents.length} unreadable intent(s)`);
      return { intents, aliveAt: isFiniteNumber(parsed.aliveAt) ? parsed.aliveAt : undefined };
    } catch (error) {
      this.logger.warn(`ignoring ${this.file}: ${errorMessage(error)}`);
      return { intents: [], aliveAt: undefined };
    }
  }

  /**
   * Take over the intents restored at start and write the file without the ones not restored.
   * An intent recorded meanwhile (a live report) is kept over the restored one.
   */
  adopt(intents: readonly StoredIntent[]): void {
    for (const intent of intents) {
      const key = this.key(intent.user, intent.input);
      if (!this.records.has(key)) this.records.set(key, intent);
    }
    this.schedule();
  }

  /** Whether an intent of `input` for `user` is held. */
  has(user: string, input: string): boolean {
    return this.records.has(this.key(user, input));
  }

  /** An input's new intent for a user: a set is kept (with the input's toggle state), a clear forgets. */
  record(user: string, input: string, intent: Intent, toggle?: ToggleState): void {
    if (intent.kind === 'clear') {
      this.forget(user, input);
      return;
    }
    const stored: StoredIntent = {
      user,
      input,
      pair: intent.pair,
      at: intent.at,
      ...(intent.until !== undefined ? { until: intent.until } : {}),
      ...(toggle ? { toggle } : {}),
    };
    this.records.set(this.key(user, input), stored);
    this.schedule();
  }

  /** The input no longer holds anything for the user. */
  forget(user: string, input: string): void {
    if (this.records.delete(this.key(user, input))) this.schedule();
  }

  /** How many intents are held (the bridge refreshes the alive stamp only while there are some). */
  get size(): number {
    return this.records.size;
  }

  /** Rewrite the file with a fresh alive stamp. */
  touch(): void {
    this.schedule();
  }

  /** Resolves once what was recorded so far is on disk. */
  flush(): Promise<void> {
    return this.writes.flush();
  }

  private key(user: string, input: string): string {
    return `${user}\u0000${input}`;
  }

  private schedule(): void {
    // The write starts after the signal's own work (mapping, arbiter, the Graph call queued) has
    // run, and every change made meanwhile goes into the same write.
    this.writes.request();
  }

  private async write(): Promise<void> {
    const intents: IntentRecord[] = [...this.records.values()].map((i) => ({
      user: i.user,
      input: i.input,
      pair: formatPresence(i.pair),
      at: i.at,
      ...(i.until !== undefined ? { until: i.until } : {}),
      ...(i.toggle ? { toggle: i.toggle } : {}),
    }));
    const body: IntentFile = { version: 1, aliveAt: this.clock.now(), intents };
    try {
      await writeFileAtomic(this.file, `${JSON.stringify(body)}\n`);
    } catch (error) {
      this.logger.warn(`cannot write ${this.file}: ${errorMessage(error)}`);
    }
  }
}

import { CLEAR, type DesiredState, type Intent } from './intent.js';
import type { PresencePair, SessionAvailability } from './presencePair.js';

/**
 * Highest first. Graph aggregates sessions in the same order, so the one state we assert for a
 * user is the one Graph would have shown had each input held its own session.
 */
export const PRECEDENCE: readonly SessionAvailability[] = ['DoNotDisturb', 'Busy', 'Available', 'Away'];

/** Rank of an availability: 0 is highest. */
export function precedenceRank(pair: PresencePair): number {
  const rank = PRECEDENCE.indexOf(pair.availability);
  return rank < 0 ? PRECEDENCE.length : rank;
}

export interface ActiveIntent {
  readonly input: string;
  readonly pair: PresencePair;
  readonly at: number;
  readonly until?: number;
}

interface Held {
  readonly pair: PresencePair;
  readonly at: number;
  readonly until?: number;
  /** Order of arrival, to break ties between intents with the same `at`. */
  readonly seq: number;
}

/**
 * One user's inputs combined (pure): keeps each input's latest intent and picks the one state to
 * assert. Highest availability by {@link PRECEDENCE} wins; among equals the most recent (`at`,
 * then arrival order). Clear intents and timed intents whose `until <= now` drop out; with none
 * left the state is clear. Time is always passed in.
 */
export class PresenceArbiter {
  private readonly held = new Map<string, Held>();
  private seq = 0;

  /** The input's latest intent replaces its previous one; a clear intent removes it. */
  update(input: string, intent: Intent): void {
    if (intent.kind === 'clear') {
      this.held.delete(input);
      return;
    }
    const held: Held = intent.until === undefined
      ? { pair: intent.pair, at: intent.at, seq: this.seq++ }
      : { pair: intent.pair, at: intent.at, until: intent.until, seq: this.seq++ };
    this.held.set(input, held);
  }

  /** Forget an input (its device vanished, or it was removed). */
  clearInput(input: string): void {
    this.held.delete(input);
  }

  /** Inputs holding an intent that is still active at `now`, highest precedence first. */
  activeIntents(now: number): ActiveIntent[] {
    return this.ranked(now).map(([input, h]) => (h.until === undefined ? { input, pair: h.pair, at: h.at } : { input, pair: h.pair, at: h.at, until: h.until }));
  }

  /** The state to assert at `now`. */
  resolve(now: number): DesiredState {
    const best = this.ranked(now)[0];
    if (!best) return CLEAR;
    const [source, h] = best;
    return h.until === undefined ? { kind: 'set', pair: h.pair, source } : { kind: 'set', pair: h.pair, source, until: h.until };
  }

  /** The earliest time after `now` at which a timed intent ends (re-resolve then), if any. */
  nextChangeAt(now: number): number | undefined {
    let next: number | undefined;
    for (const h of this.held.values()) {
      if (h.until !== undefined && h.until > now && (next === undefined || h.until < next)) next = h.until;
    }
    return next;
  }

  /** Drop timed intents that have ended by `now` (memory only; resolve ignores them anyway). */
  prune(now: number): void {
    for (const [input, h] of this.held) if (h.until !== undefined && h.until <= now) this.held.delete(input);
  }

  private ranked(now: number): [string, Held][] {
    return [...this.held]
      .filter(([, h]) => h.until === undefined || h.until > now)
      .sort(([, a], [, b]) => precedenceRank(a.pair) - precedenceRank(b.pair) || b.at - a.at || b.seq - a.seq);
  }
}

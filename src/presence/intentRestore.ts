import type { ToggleState } from './mapping.js';
import type { PresencePair } from './presencePair.js';

/**
 * Restoring the inputs' intents after a restart (pure). A crash, a Homebridge restart or an
 * update must not forget that a desk button is ON: most devices report only on change (issue 20).
 * The bridge keeps each input's latest set intent per user on disk; at the next start this
 * module says which of them still hold.
 */

/** One input's latest set intent for one user, as kept on disk. */
export interface StoredIntent {
  /** The user's config key. */
  readonly user: string;
  /** The configured input's name, or a built-in input (`mqtt-command`, `homekit`). */
  readonly input: string;
  readonly pair: PresencePair;
  /** When the input asked for it (ms since epoch). */
  readonly at: number;
  /** A timed intent's original end (ms since epoch); it keeps it across a restart. */
  readonly until?: number;
  /** Where the input's toggle cycle stood, so the next press goes on from there. */
  readonly toggle?: ToggleState;
}

export interface RestoreContext {
  readonly now: number;
  /**
   * The latest time the previous run was known alive while holding these intents (it refreshes
   * this stamp on disk while it holds any), or undefined when unknown.
   */
  readonly aliveAt: number | undefined;
  /** Longest down time after which nothing is restored (the bridge uses `graph.expiration`). */
  readonly maxDownMs: number;
  /** Whether `input` is still configured for `user` (user and input both still exist and match). */
  readonly stillDrives: (user: string, input: string) => boolean;
}

export type DropReason = 'ended' | 'too-old' | 'not-configured';

export interface RestorePlan {
  readonly restore: StoredIntent[];
  readonly dropped: { readonly intent: StoredIntent; readonly reason: DropReason }[];
}

/**
 * Which stored intents to restore at `now`:
 * - a timed intent whose end has passed is dropped (`ended`); one still running keeps its end;
 * - when the previous run was last known alive longer than `maxDownMs` ago (its stamp, or the
 *   intent's own time when that is later) the intent is dropped (`too-old`): a bridge that was
 *   down for longer than a session lives does not bring back yesterday's presence;
 * - an intent of an input or user no longer in the config is dropped (`not-configured`).
 * When the same user and input appear twice, the later intent wins.
 */
export function planRestore(stored: readonly StoredIntent[], context: RestoreContext): RestorePlan {
  const latest = new Map<string, StoredIntent>();
  const dropped: { intent: StoredIntent; reason: DropReason }[] = [];
  for (const intent of stored) {
    const key = `${intent.user}\u0000${intent.input}`;
    const previous = latest.get(key);
    if (previous && previous.at > intent.at) continue;
    latest.set(key, intent);
  }
  const restore: StoredIntent[] = [];
  for (const intent of latest.values()) {
    const vouchedAt = Math.max(intent.at, context.aliveAt ?? intent.at);
    if (!context.stillDrives(intent.user, intent.input)) dropped.push({ intent, reason: 'not-configured' });
    else if (intent.until !== undefined && intent.until <= context.now) dropped.push({ intent, reason: 'ended' });
    else if (context.now - vouchedAt > context.maxDownMs) dropped.push({ intent, reason: 'too-old' });
    else restore.push(intent);
  }
  return { restore, dropped };
}

/**
 * How often a running bridge refreshes the alive stamp while it holds intents: a sixth of the
 * limit, so the down time it measures is at most that much too long (it errs towards dropping).
 */
export function aliveStampIntervalMs(maxDownMs: number): number {
  return Math.max(1_000, Math.floor(maxDownMs / 6));
}

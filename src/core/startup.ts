import type { UserConfig } from '../config/schema.js';
import { isObjectId } from '../graph/userIdResolver.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import type { RestorePlan, StoredIntent } from '../presence/intentRestore.js';
import { planRestore } from '../presence/intentRestore.js';
import { formatPresence } from '../presence/presencePair.js';
import type { IntentStore } from '../session/intentStore.js';
import type { SessionLedger } from '../session/sessionLedger.js';
import type { InputSlot } from './inputs.js';
import type { UserTable } from './userTable.js';

/** Restored (and dropped) intents are logged one by one up to this many, then counted. */
const RESTORE_LOG_LINES = 20;

export interface RestoreOptions {
  readonly store: IntentStore;
  readonly users: UserTable;
  readonly inputs: ReadonlyMap<string, InputSlot>;
  readonly now: number;
  /** Nothing is restored after a down time longer than this (`graph.expiration`, as text for the log). */
  readonly maxDownMs: number;
  readonly expiration: string;
  readonly logger: Logger;
  /** Whether a stored intent of `input` for `user` may come back: both still configured, together. */
  readonly stillDrives: (user: string, input: string) => boolean;
}

/** One line per intent for a desk or two; thousands of users get a count instead of a flood. */
function lineFor(logger: Logger, index: number): (message: string) => void {
  return index < RESTORE_LOG_LINES ? logger.info.bind(logger) : logger.debug.bind(logger);
}

function logRestored(restored: readonly StoredIntent[], logger: Logger): void {
  for (const [index, intent] of restored.entries()) {
    const ends = intent.until === undefined ? '' : `, until ${new Date(intent.until).toISOString()}`;
    lineFor(logger, index)(`${intent.user}: restored ${formatPresence(intent.pair)} from input "${intent.input}" (asked ${new Date(intent.at).toISOString()}${ends})`);
  }
}

function logDropped(dropped: RestorePlan['dropped'], expiration: string, logger: Logger): void {
  for (const [index, { intent, reason }] of dropped.entries()) {
    const why =
      reason === 'ended'
        ? 'its time has ended'
        : reason === 'too-old'
          ? `the bridge was down longer than graph.expiration (${expiration})`
          : 'that input or user is no longer configured';
    lineFor(logger, index)(`${intent.user}: not restoring ${formatPresence(intent.pair)} from input "${intent.input}": ${why}`);
  }
}

/**
 * Puts the intents a previous run held back into the users' arbiters (before any input reports;
 * issue 20). Returns the keys of the users concerned.
 */
export async function restoreIntents(options: RestoreOptions): Promise<Set<string>> {
  const { store, users, inputs, logger } = options;
  const { intents, aliveAt } = await store.load();
  const concerned = new Set<string>();
  if (intents.length === 0) return concerned;
  const plan = planRestore(intents, { now: options.now, aliveAt, maxDownMs: options.maxDownMs, stillDrives: options.stillDrives });
  const restored = plan.restore.filter((i) => !store.has(i.user, i.input) && users.has(i.user)); // a live report beats the disk
  for (const intent of restored) {
    users.get(intent.user)?.arbiter.update(intent.input, intent.until === undefined ? { kind: 'set', pair: intent.pair, at: intent.at } : { kind: 'set', pair: intent.pair, at: intent.at, until: intent.until });
    const input = inputs.get(intent.input);
    if (input && intent.toggle) input.toggle = intent.toggle;
    concerned.add(intent.user);
  }
  logRestored(restored, logger);
  logDropped(plan.dropped, options.expiration, logger);
  if (restored.length > RESTORE_LOG_LINES || plan.dropped.length > RESTORE_LOG_LINES) {
    logger.info(`restored ${restored.length} intent(s) of ${concerned.size} user(s) from before the restart, dropped ${plan.dropped.length} (each at debug level)`);
  }
  store.adopt(restored);
  return concerned;
}

/** The previous run's listed users plus every configured user it may not have listed (it did not stop cleanly). */
export function withUnlisted(previous: readonly string[], configured: readonly UserConfig[], users: UserTable): string[] {
  const listed = new Set(previous.map((id) => id.toLowerCase()));
  const unlisted = configured.map((u) => users.ledgerId(u.id)).filter((id) => !listed.has(id.toLowerCase()));
  return [...previous, ...unlisted];
}

export interface TakeOverOptions {
  /** Graph ids the previous run's ledger lists (plus, after an unclean stop, every configured user). */
  readonly previous: readonly string[];
  readonly configured: readonly UserConfig[];
  readonly users: UserTable;
  readonly ledger: SessionLedger;
  readonly logger: Logger;
  /** A user no longer configured: clear the session nobody will renew. */
  readonly clearLeftover: (userId: string) => void;
}

/** Sessions a previous run left: each user's publisher takes its own over (clears it unless it is wanted). */
export function takeOverPrevious(options: TakeOverOptions): void {
  const { users, ledger } = options;
  try {
    const unresolved = options.configured.some((u) => !isObjectId(u.id) && !users.isResolved(u.id));
    for (const userId of options.previous) {
      const slot = users.byUserId(userId);
      if (!slot && unresolved) {
        // a user given by user principal name is not resolved yet: it may be this one; keep it listed
        ledger.release(userId, true);
        continue;
      }
      if (!slot) {
        options.clearLeftover(userId);
        continue;
      }
      if (!slot.publisher.hasSession()) slot.publisher.assumeSession();
      // the publisher now owns the session: its next state says whether it is still there
      ledger.release(userId, slot.publisher.hasSession());
    }
  } catch (error) {
    options.logger.error(`taking over the previous run's sessions failed: ${errorMessage(error)}`);
  }
}

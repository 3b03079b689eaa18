import type { AccessTokenProvider, GraphPresenceClient } from '../graph/types.js';
import { GraphError } from '../graph/types.js';
import { graphCallEvent } from '../session/graphCallEvent.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import type { Clock } from '../shared/clock.js';
import type { RequestLimiter } from '../session/requestLimiter.js';
import type { SessionLedger } from '../session/sessionLedger.js';
import type { GraphCallEvent } from '../session/userState.js';

/** What createBridge needs to talk to Graph; built from the config when not given. */
export interface GraphStack {
  readonly tokens: AccessTokenProvider;
  readonly client: GraphPresenceClient;
  close(): Promise<void>;
}

/**
 * A client that forwards to the running bridge's Graph stack: publishers exist from the start, the
 * stack only once started. A call while stopped rejects (it never throws into the caller).
 */
export function lazyClient(current: () => GraphStack | undefined): GraphPresenceClient {
  const get = (): GraphPresenceClient => {
    const graph = current();
    if (!graph) throw new Error('the bridge is not running');
    return graph.client;
  };
  return {
    get sessionId() {
      return get().sessionId;
    },
    setPresence: async (...a) => get().setPresence(...a),
    clearPresence: async (...a) => get().clearPresence(...a),
    setUserPreferredPresence: async (...a) => get().setUserPreferredPresence(...a),
    clearUserPreferredPresence: async (...a) => get().clearUserPreferredPresence(...a),
    getPresence: async (...a) => get().getPresence(...a),
    getPresences: async (...a) => get().getPresences(...a),
    getMyPresence: async () => get().getMyPresence(),
    resolveUserId: async (...a) => get().resolveUserId(...a),
  };
}

/** The graphCall event of one finished call, through the one builder (src/graph/graphCallEvent.ts). */
function callEvent(base: Omit<GraphCallEvent, 'ok' | 'durationMs'>, now: number, error?: unknown): GraphCallEvent {
  return graphCallEvent({ ...base, endedAt: now, outcome: error === undefined ? { ok: true } : { ok: false, error } });
}

export interface PreferOptions {
  readonly limiter: RequestLimiter;
  readonly clock: Clock;
  readonly client: GraphPresenceClient;
  readonly userKey: string;
  readonly userId: string;
  /** null clears the user-preferred presence. */
  readonly presence: { availability: string; activity: string } | null;
  readonly expirationDuration?: string | undefined;
  readonly onCall: (event: GraphCallEvent) => void;
}

/** setUserPreferredPresence or its clear, through the limiter as a command. Rejects with a GraphError when Graph refuses. */
export function preferPresence(options: PreferOptions): Promise<void> {
  const { limiter, clock, client, presence, userId } = options;
  const operation = presence ? 'setUserPreferredPresence' : 'clearUserPreferredPresence';
  const detail = presence ? `${presence.availability}/${presence.activity}` : undefined;
  return new Promise<void>((resolve, reject) => {
    limiter.submit(
      clock.now(),
      () => {
        const startedAt = clock.now();
        const call = presence ? client.setUserPreferredPresence(userId, presence, options.expirationDuration) : client.clearUserPreferredPresence(userId);
        const base = { userKey: options.userKey, operation, detail, startedAt } as const;
        return call.then(
          () => {
            options.onCall(callEvent(base, clock.now()));
            resolve();
          },
          (error: unknown) => {
            options.onCall(callEvent(base, clock.now(), error));
            reject(error instanceof Error ? error : new Error(String(error)));
          },
        );
      },
      { kind: 'command', onRefused: () => reject(new Error('too many commands are waiting for Graph; this one was dropped')) },
    );
  });
}

export interface LeftoverOptions {
  readonly limiter: RequestLimiter;
  readonly clock: Clock;
  readonly client: GraphPresenceClient;
  readonly ledger: SessionLedger;
  readonly logger: Logger;
  readonly isRunning: () => boolean;
  readonly onCall: (event: GraphCallEvent) => void;
}

/**
 * A session nobody will renew or clear (a user no longer configured, or just removed): clear it
 * now rather than leave the stale presence until it expires. A retryable failure keeps the user
 * listed, so the next start tries again; a refusal lets it expire by itself.
 */
export function clearSessionOf(userId: string, options: LeftoverOptions): void {
  const { clock, ledger, logger } = options;
  options.limiter.submit(clock.now(), () => {
    if (!options.isRunning()) return null;
    const base = { userKey: null, operation: 'clearPresence', startedAt: clock.now() } as const;
    return options.client.clearPresence(userId).then(
      () => {
        options.onCall(callEvent(base, clock.now()));
        ledger.release(userId, false);
      },
      (error: unknown) => {
        options.onCall(callEvent(base, clock.now(), error));
        const retry = !(error instanceof GraphError) || error.retryable;
        logger.warn(`clearing the session of user ${userId} failed: ${errorMessage(error)}; ${retry ? 'the next start tries again' : 'it expires by itself'}`);
        ledger.release(userId, retry);
      },
    );
  });
}

import type { GraphCallEvent } from '../bridgeTypes.js';
import type { GraphPresenceClient, UserPresence } from '../graph/types.js';
import { GraphError } from '../graph/types.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import type { Clock, TimerHandle } from './clock.js';
import type { RequestLimiter } from './requestLimiter.js';

/** getPresencesByUserId takes at most this many ids a request. */
export const PRESENCES_PER_REQUEST = 650;

export interface ReadbackDeps {
  readonly clock: Clock;
  readonly client: GraphPresenceClient;
  readonly limiter: RequestLimiter;
  readonly logger: Logger;
  readonly intervalMs: number;
  readonly userIds: readonly string[];
  /** One user's presence as Graph reports it. */
  readonly onPresence: (userId: string, presence: UserPresence) => void;
  readonly onCall?: (event: GraphCallEvent) => void;
}

/**
 * Read-back (`graph.pollSeconds`): every interval, the actual presence of every user through
 * getPresencesByUserId, 650 ids a request, each request through the shared rate limiter at a
 * deadline one interval away so renewals about to fade go first. Failures are logged and
 * reported; the next poll is the retry.
 */
export class PresenceReadback {
  private timer: TimerHandle | undefined;
  private stopped = true;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly deps: ReadbackDeps) {}

  start(): void {
    if (this.deps.intervalMs <= 0 || this.deps.userIds.length === 0) return;
    this.stopped = false;
    this.poll();
  }

  stop(): void {
    this.stopped = true;
    this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  async whenIdle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private poll(): void {
    if (this.stopped) return;
    const { clock, limiter, intervalMs, userIds } = this.deps;
    const now = clock.now();
    for (let i = 0; i < userIds.length; i += PRESENCES_PER_REQUEST) {
      const ids = userIds.slice(i, i + PRESENCES_PER_REQUEST);
      limiter.submit(now + intervalMs, () => (this.stopped ? null : this.read(ids)));
    }
    this.timer = clock.setTimeout(() => {
      this.timer = undefined;
      this.poll();
    }, intervalMs);
  }

  private read(ids: readonly string[]): Promise<void> {
    const { clock, client, logger } = this.deps;
    const startedAt = clock.now();
    const call = client
      .getPresences(ids)
      .then(
        (presences) => {
          this.report(true, startedAt);
          const byId = new Map(presences.map((p) => [p.id.toLowerCase(), p]));
          for (const id of ids) {
            const presence = byId.get(id.toLowerCase());
            if (presence) this.deps.onPresence(id, presence);
          }
        },
        (error: unknown) => {
          const graphError = error instanceof GraphError ? error : undefined;
          this.report(false, startedAt, graphError);
          logger.warn(`read-back failed (${graphError?.code ?? 'UNEXPECTED'}): ${graphError?.hint ?? errorMessage(error)}`);
        },
      )
      .catch((error: unknown) => logger.error(`read-back: ${errorMessage(error)}`))
      .finally(() => this.inFlight.delete(call));
    this.inFlight.add(call);
    return call;
  }

  private report(ok: boolean, startedAt: number, error?: GraphError): void {
    try {
      this.deps.onCall?.({
        userKey: null,
        operation: 'getPresences',
        ok,
        status: error?.status,
        errorCode: error?.code,
        startedAt,
        durationMs: this.deps.clock.now() - startedAt,
      });
    } catch (e) {
      this.deps.logger.error(`graphCall listener failed: ${errorMessage(e)}`);
    }
  }
}

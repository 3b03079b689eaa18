import type { GraphCallEvent } from './userState.js';
import { graphCallEvent, type CallOutcome } from './graphCallEvent.js';
import type { GraphPresenceClient, UserPresence } from '../graph/types.js';
import { GraphError } from '../graph/types.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
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
  /**
   * `delegated`: only the signed-in user can be read (getPresencesByUserId needs
   * Presence.Read.All, which a delegated sign-in lacks), with `GET /me/presence`.
   */
  readonly mode?: 'application' | 'delegated';
  /** Delegated mode: the signed-in account, to match users configured by user principal name. */
  readonly signedInAccount?: () => Promise<{ readonly username: string; readonly localAccountId: string } | undefined>;
  /** One user's presence as Graph reports it. */
  readonly onPresence: (userId: string, presence: UserPresence) => void;
  readonly onCall?: (event: GraphCallEvent) => void;
}

/**
 * Read-back (`graph.pollSeconds`): every interval, the actual presence of every user through
 * getPresencesByUserId, 650 ids a request, each request through the shared rate limiter at a
 * deadline one interval away so renewals about to fade go first. In delegated mode, the
 * signed-in user's presence only, with `GET /me/presence`; configured users who are not the
 * signed-in account are reported once. Failures are reported every time (graphCall) but logged
 * once until they change or read-back works again; the next poll is the retry.
 */
export class PresenceReadback {
  private timer: TimerHandle | undefined;
  private stopped = true;
  private readonly inFlight = new Set<Promise<void>>();
  /** The failure last logged (code and hint), until a read works again. */
  private lastFailure: string | undefined;
  /** The users last reported as not the signed-in account, with who is signed in. */
  private lastOthers: string | undefined;
  /** Delegated: the ids (object id, user principal name) of the signed-in account, by object id. */
  private account: { readonly objectId: string; readonly ids: ReadonlySet<string>; readonly label: string } | undefined;

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
    if (this.deps.mode === 'delegated') {
      limiter.submit(now + intervalMs, () => (this.stopped ? null : this.readSignedIn()));
    } else {
      for (let i = 0; i < userIds.length; i += PRESENCES_PER_REQUEST) {
        const ids = userIds.slice(i, i + PRESENCES_PER_REQUEST);
        limiter.submit(now + intervalMs, () => (this.stopped ? null : this.read(ids)));
      }
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
          this.report(startedAt, { ok: true });
          this.recovered();
          const byId = new Map(presences.map((p) => [p.id.toLowerCase(), p]));
          for (const id of ids) {
            const presence = byId.get(id.toLowerCase());
            if (presence) this.deps.onPresence(id, presence);
          }
        },
        (error: unknown) => this.failed(error, startedAt),
      )
      .catch((error: unknown) => logger.error(`read-back: ${errorMessage(error)}`))
      .finally(() => this.inFlight.delete(call));
    this.inFlight.add(call);
    return call;
  }

  /** Delegated: `GET /me/presence`, given to the configured user who is the signed-in account. */
  private readSignedIn(): Promise<void> {
    const { clock, client, logger, userIds } = this.deps;
    const startedAt = clock.now();
    const call = client
      .getMyPresence()
      .then(
        async (presence) => {
          this.report(startedAt, { ok: true });
          this.recovered();
          const account = await this.signedInAs(presence.id);
          const mine = userIds.filter((id) => account.ids.has(id.toLowerCase()));
          for (const id of mine) this.deps.onPresence(id, { ...presence, id });
          this.reportOthers(userIds.filter((id) => !account.ids.has(id.toLowerCase())), account.label);
        },
        (error: unknown) => this.failed(error, startedAt),
      )
      .catch((error: unknown) => logger.error(`read-back: ${errorMessage(error)}`))
      .finally(() => this.inFlight.delete(call));
    this.inFlight.add(call);
    return call;
  }

  /** The ids the signed-in account goes by; the token cache is read again only when the object id changes. */
  private async signedInAs(objectId: string): Promise<{ readonly ids: ReadonlySet<string>; readonly label: string }> {
    const key = objectId.toLowerCase();
    if (this.account?.objectId === key) return this.account;
    const ids = new Set([key]);
    let label = objectId;
    try {
      const account = await this.deps.signedInAccount?.();
      if (account && (account.localAccountId.toLowerCase() === key || key === '')) {
        ids.add(account.localAccountId.toLowerCase());
        ids.add(account.username.toLowerCase());
        label = account.username;
      }
    } catch (error) {
      this.deps.logger.debug(`cannot read the signed-in account: ${errorMessage(error)}`);
    }
    ids.delete('');
    this.account = { objectId: key, ids, label };
    return this.account;
  }

  private reportOthers(others: readonly string[], signedInAs: string): void {
    const key = others.length === 0 ? undefined : `${signedInAs}|${others.join(',')}`;
    if (key === this.lastOthers) return;
    this.lastOthers = key;
    if (others.length === 0) return;
    this.deps.logger.warn(
      `signed in as ${signedInAs}, so ${others.length === 1 ? 'user' : 'users'} ${others.join(', ')} cannot be read or set: ` +
        'a delegated sign-in (auth.mode delegated) can only set its own presence; sign in as that user, or use application mode for several users',
    );
  }

  /** Logs a failure the first time, and again only when it changes. */
  private failed(error: unknown, startedAt: number): void {
    const graphError = error instanceof GraphError ? error : undefined;
    this.report(startedAt, { ok: false, error });
    const text = `(${graphError?.code ?? 'UNEXPECTED'}): ${graphError?.hint ?? errorMessage(error)}`;
    if (text === this.lastFailure) {
      this.deps.logger.debug(`read-back failed again ${text}`);
      return;
    }
    this.lastFailure = text;
    this.deps.logger.warn(`read-back failed ${text} (logged again only when this changes)`);
  }

  private recovered(): void {
    if (this.lastFailure === undefined) return;
    this.lastFailure = undefined;
    this.deps.logger.info('read-back works again');
  }

  private report(startedAt: number, outcome: CallOutcome): void {
    try {
      this.deps.onCall?.(graphCallEvent({ userKey: null, operation: 'getPresences', startedAt, endedAt: this.deps.clock.now(), outcome }));
    } catch (e) {
      this.deps.logger.error(`graphCall listener failed: ${errorMessage(e)}`);
    }
  }
}

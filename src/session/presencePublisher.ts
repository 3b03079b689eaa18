import type { GraphCallEvent, UserErrorInfo, UserHealth, UserState } from './userState.js';
import { sameUserState } from './userState.js';
import { graphCallEvent } from './graphCallEvent.js';
import type { GraphPresenceClient } from '../graph/types.js';
import { GraphError } from '../graph/types.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import type { DesiredState } from '../presence/intent.js';
import { CLEAR } from '../presence/intent.js';
import type { ObservedPresence, PresencePair } from '../presence/presencePair.js';
import { formatPresence, samePair } from '../presence/presencePair.js';
import { retryDelay, UNAUTHORIZED_GRACE_MS } from '../presence/retryDelay.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { PublisherAction, SessionFacts } from './publisherState.js';
import { decide, explainPresence, isOverridden, renewalDueAt, sessionAlive, type PresenceOrigin } from './publisherState.js';
import type { LimiterTicket, RequestLimiter } from './requestLimiter.js';
import type { RenewalMargin } from './renewalMargin.js';

export interface PublisherUser {
  readonly key: string;
  readonly id: string;
  readonly displayName: string;
}

export interface PublisherDeps {
  readonly clock: Clock;
  readonly client: GraphPresenceClient;
  readonly limiter: RequestLimiter;
  readonly logger: Logger;
  /** `graph.expiration` as sent (ISO 8601) and in milliseconds. */
  readonly expiration: string;
  readonly expirationMs: number;
  /** Jitter source for retry backoff. */
  readonly random?: () => number;
  readonly onState?: (state: UserState) => void;
  readonly onCall?: (event: GraphCallEvent) => void;
  /**
   * Called before each setPresence (the bridge lists the user in its session ledger here, written
   * alongside and never awaited: docs/sessions.md). A returned promise would hold a first
   * assertion until it resolves; undefined, or any renewal, sends at once.
   */
  readonly beforeSet?: () => Promise<void> | undefined;
  /**
   * The adaptive Available renewal margin, shared by all users: told of every call's outcome, asked
   * when a renewal is due. Without it the wide 90 s margin applies.
   */
  readonly renewalMargin?: Pick<RenewalMargin, 'record' | 'availableMarginMs'>;
}

function sameDesired(a: DesiredState, b: DesiredState): boolean {
  if (a.kind === 'clear' || b.kind === 'clear') return a.kind === b.kind;
  return samePair(a.pair, b.pair);
}

function errorInfo(error: unknown, at: number): UserErrorInfo {
  if (error instanceof GraphError) return { code: error.code, message: error.message, hint: error.hint, at };
  return { code: 'UNEXPECTED', message: errorMessage(error), hint: 'See the log for details.', at };
}

/**
 * One user's presence session at Graph. It converges what Graph confirmed to the latest desired
 * state: one setPresence per new pair (a burst coalesces to the latest, one call in flight at
 * most), renewals at the pure schedule's times, clearPresence when nothing is asked, backoff on
 * retryable errors, and a stop on refusals retrying cannot fix until the desired state or the
 * config changes. Every request passes the shared {@link RequestLimiter}.
 */
export class PresencePublisher {
  private desired: DesiredState = CLEAR;
  private desiredAt: number;
  private confirmed: PresencePair | null = null;
  private confirmedAt: number | null = null;
  private uncertain = false;
  /** A set or clear of this run succeeded: Graph's state of our session is known, whatever a previous run left. */
  private sessionKnown = false;
  private retryAt: number | null = null;
  private attempt = 0;
  private blocked = false;
  private lastCallAt: number | null = null;
  private firstRenewalFraction: number | null = null;
  private lastError: UserErrorInfo | null = null;
  /** When the current run of 401s began (null: the last call was not refused with 401). */
  private unauthorizedSince: number | null = null;
  private actual: ObservedPresence | null = null;
  private inFlight: Promise<void> | null = null;
  private ticket: { readonly handle: LimiterTicket; readonly deadline: number } | null = null;
  private timer: TimerHandle | undefined;
  private timerAt: number | undefined;
  private stopped = false;
  private emitted = false;
  private current: UserState;
  private gated: NonNullable<UserState['gated']> | null = null;

  constructor(
    readonly user: PublisherUser,
    private readonly deps: PublisherDeps,
  ) {
    this.desiredAt = deps.clock.now();
    this.current = this.snapshot();
  }

  /**
   * The arbiter's latest answer, after the gates (`gated`: which one changed it, if any). An
   * identical pair makes no call; a new one replaces any queued one.
   */
  setDesired(desired: DesiredState, gated: UserState['gated'] = null): void {
    if (this.stopped) return;
    this.gated = gated ?? null;
    if (sameDesired(this.desired, desired)) {
      this.desired = desired; // the source input may differ
      this.emitState();
      return;
    }
    this.desired = desired;
    this.desiredAt = this.deps.clock.now();
    this.blocked = false;
    // the Graph request is queued (and, with budget, sent) before any output hears of the change
    this.pump();
    this.emitState();
  }

  /** Read-back: the user's presence as Graph reports it (null when unknown). */
  observe(actual: ObservedPresence | null): void {
    this.actual = actual;
    this.explainOnce();
    this.emitState();
  }

  private lastOrigin: PresenceOrigin | null = null;

  /** Says once, when it changes, why Graph shows something other than our pair. Neither case is a fault. */
  private explainOnce(): void {
    const confirmed = sessionAlive(this.facts(), this.deps.clock.now()) ? this.confirmed : null;
    const origin = explainPresence(confirmed, this.actual);
    if (origin === this.lastOrigin) return;
    this.lastOrigin = origin;
    if (!confirmed || !this.actual) return;
    const shown = formatPresence(this.actual);
    const ours = formatPresence(confirmed);
    if (origin === 'otherSession') {
      this.deps.logger.info(`${this.user.key}: Teams shows ${shown} from another session (most likely the user's own Teams client), which ranks above our ${ours}; normal, not a fault`);
    } else if (origin === 'preferred') {
      this.deps.logger.info(`${this.user.key}: Teams shows ${shown}: a preferred presence (set in Teams or with setUserPreferredPresence) overrides our ${ours} until it is cleared; not retried`);
    }
  }

  /**
   * A previous run may have left a session here (it crashed before clearing): treat Graph's state
   * as unknown, so a wanted clear is sent (404 if it was gone) and a wanted pair is set again.
   * Nothing to do once a set or clear of this run succeeded: the session is one per app and user,
   * so that call already replaced or ended whatever the previous run left.
   */
  assumeSession(): void {
    if (this.stopped || this.sessionKnown) return;
    this.uncertain = true;
    // a clear nobody asked for is due from now, when the doubt arose, not from the bridge's start:
    // after a crash, inputs that came in before the take-over go before a thousand such clears
    if (this.desired.kind === 'clear') this.desiredAt = this.deps.clock.now();
    this.pump();
    this.emitState();
  }

  /** The config changed (or an operator asked): forget a refusal and any backoff, try again now. */
  retryNow(): void {
    this.blocked = false;
    this.unauthorizedSince = null;
    this.retryAt = null;
    this.attempt = 0;
    this.pump();
    this.emitState();
  }

  state(): UserState {
    return this.current;
  }

  /** True when Graph may hold a session of ours for this user. */
  hasSession(): boolean {
    return sessionAlive(this.facts(), this.deps.clock.now()) || this.uncertain;
  }

  /** Resolves when no call of this user is in flight. */
  async whenIdle(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  /** Stop renewing and retrying; timers and the queued request are dropped. */
  stop(): void {
    this.stopped = true;
    this.ticket?.handle.cancel();
    this.ticket = null;
    this.disarm();
  }

  /**
   * Shutdown with `onShutdown: clear`: stop, let a call in flight land, then clear the session if
   * Graph may hold one. The caller bounds the wait.
   */
  async stopAndClear(): Promise<void> {
    this.stop();
    await this.whenIdle();
    if (!this.hasSession()) return;
    await new Promise<void>((resolve) => {
      this.deps.limiter.submit(this.deps.clock.now(), () => {
        const call = this.callClear();
        void call.finally(resolve);
        return call;
      });
    });
  }

  private facts(): SessionFacts {
    return {
      desired: this.desired,
      desiredAt: this.desiredAt,
      confirmed: this.confirmed,
      confirmedAt: this.confirmedAt,
      uncertain: this.uncertain,
      retryAt: this.retryAt,
      blocked: this.blocked,
      lastCallAt: this.lastCallAt,
      firstRenewalFraction: this.firstRenewalFraction,
      expirationMs: this.deps.expirationMs,
      availableMarginMs: this.deps.renewalMargin?.availableMarginMs(this.deps.clock.now()),
    };
  }

  /** Decide the next step and arrange it: a timer, a queued request, or nothing. */
  private pump(): void {
    if (this.stopped || this.inFlight) return;
    const now = this.deps.clock.now();
    if (this.confirmed && !sessionAlive(this.facts(), now)) {
      this.confirmed = null;
      this.confirmedAt = null;
      this.emitState();
    }
    const action = decide(this.facts(), now);
    let wakeAt: number | undefined;
    if (action.kind === 'set' || action.kind === 'clear') {
      this.enqueue(action.deadline, action.kind === 'set' && action.renewal);
    } else {
      this.ticket?.handle.cancel();
      this.ticket = null;
      if (action.kind === 'wait') wakeAt = action.until;
    }
    if (this.confirmedAt !== null) {
      const expiresAt = this.confirmedAt + this.deps.expirationMs;
      if (wakeAt === undefined || expiresAt < wakeAt) wakeAt = expiresAt;
    }
    if (wakeAt === undefined) this.disarm();
    else this.arm(wakeAt);
  }

  private enqueue(deadline: number, renewal = false): void {
    if (this.ticket && this.ticket.deadline <= deadline) return;
    this.ticket?.handle.cancel();
    let ran = false;
    const handle = this.deps.limiter.submit(
      deadline,
      () => {
        ran = true;
        return this.runGranted();
      },
      { kind: renewal ? 'renewal' : 'upkeep' },
    );
    // submit runs the work at once when the budget has room; only a request still queued is kept
    this.ticket = ran ? null : { handle, deadline };
  }

  /** The limiter granted a slot: act on the state as it is now, which may have moved on. */
  private runGranted(): Promise<void> | null {
    this.ticket = null;
    if (this.stopped || this.inFlight) return null;
    const facts = this.facts();
    const now = this.deps.clock.now();
    const action: PublisherAction = decide(facts, now);
    if (action.kind === 'set') return this.callSet(action.pair, action.renewal, action.renewal ? this.renewalWait(facts, action.pair, now) : 0);
    if (action.kind === 'clear') return this.callClear();
    this.pump();
    return null;
  }

  /** How long past its due time a renewal got its slot from the request budget. */
  private renewalWait(facts: SessionFacts, pair: PresencePair, now: number): number {
    if (facts.confirmedAt === null) return 0;
    const due = renewalDueAt(pair, facts.confirmedAt, facts.expirationMs, facts.firstRenewalFraction, facts.availableMarginMs);
    return due === null ? 0 : Math.max(0, now - due);
  }

  private callSet(pair: PresencePair, renewal: boolean, waitedMs = 0): Promise<void> {
    const { clock, client, logger, expiration } = this.deps;
    const startedAt = clock.now();
    const detail = formatPresence(pair);
    logger.debug(`${this.user.key}: ${renewal ? 'renewing' : 'setting'} ${detail}`);
    const gate = this.deps.beforeSet?.();
    let call: Promise<void>;
    if (gate && !renewal) {
      call = gate.then(() => client.setPresence(this.user.id, pair, expiration));
    } else {
      if (gate) void gate.catch((error: unknown) => logger.warn(`${this.user.key}: ${errorMessage(error)}`));
      call = client.setPresence(this.user.id, pair, expiration);
    }
    return this.track(
      call.then(() => {
        this.confirmed = pair;
        this.confirmedAt = startedAt;
        this.uncertain = false;
        this.sessionKnown = true;
        this.firstRenewalFraction = renewal ? null : 0.5 + 0.5 * (this.deps.random ?? Math.random)();
        this.succeeded('setPresence', detail, startedAt);
        if (!renewal) logger.info(`${this.user.key}: presence set to ${detail}`);
      }),
      'setPresence',
      detail,
      startedAt,
      waitedMs,
    );
  }

  private callClear(): Promise<void> {
    const { clock, client, logger } = this.deps;
    const startedAt = clock.now();
    return this.track(
      client.clearPresence(this.user.id).then((result) => {
        this.confirmed = null;
        this.confirmedAt = null;
        this.uncertain = false;
        this.sessionKnown = true;
        this.succeeded('clearPresence', undefined, startedAt);
        logger.info(`${this.user.key}: presence cleared${result === 'already-cleared' ? ' (session was already gone)' : ''}`);
      }),
      'clearPresence',
      undefined,
      startedAt,
    );
  }

  private track(call: Promise<void>, operation: 'setPresence' | 'clearPresence', detail: string | undefined, startedAt: number, waitedMs = 0): Promise<void> {
    this.lastCallAt = startedAt;
    const done = call
      .then(
        () => this.noteOutcome(startedAt, waitedMs, undefined),
        (error: unknown) => {
          this.noteOutcome(startedAt, waitedMs, error);
          throw error;
        },
      )
      .catch((error: unknown) => this.failed(error, operation, detail, startedAt))
      .catch((error: unknown) => this.deps.logger.error(`${this.user.key}: ${errorMessage(error)}`))
      .finally(() => {
        this.inFlight = null;
        this.emitState();
        this.pump();
      });
    this.inFlight = done;
    this.emitState();
    return done;
  }

  private succeeded(operation: GraphCallEvent['operation'], detail: string | undefined, startedAt: number): void {
    this.unauthorizedSince = null;
    this.attempt = 0;
    this.retryAt = null;
    this.lastError = null;
    this.emitCall(graphCallEvent({ userKey: this.user.key, operation, detail, startedAt, endedAt: this.deps.clock.now(), outcome: { ok: true } }));
  }

  private failed(error: unknown, operation: GraphCallEvent['operation'], detail: string | undefined, startedAt: number): void {
    const { clock, logger } = this.deps;
    const now = clock.now();
    const graphError = error instanceof GraphError ? error : undefined;
    this.emitCall(graphCallEvent({ userKey: this.user.key, operation, detail, startedAt, endedAt: now, outcome: { ok: false, error } }));
    this.lastError = errorInfo(error, now);
    // Without an answer the request may have reached Graph: the session's state is unknown.
    if (!graphError || graphError.code === 'NETWORK' || graphError.status === 504) this.uncertain = true;
    const what = `${operation}${detail ? ` ${detail}` : ''}`;
    const retryable = graphError ? graphError.retryable || this.transientUnauthorized(graphError, now) : true;
    if (retryable) {
      this.attempt++;
      const delay = retryDelay({ attempt: this.attempt, retryAfterMs: graphError?.retryAfterMs, random: this.deps.random ?? Math.random });
      this.retryAt = now + delay;
      logger.warn(`${this.user.key}: ${what} failed (${this.lastError.code}: ${this.lastError.message}); retrying in ${Math.round(delay / 1000)} s`);
    } else {
      this.blocked = true;
      this.retryAt = null;
      this.attempt = 0;
      logger.error(`${this.user.key}: ${what} refused (${this.lastError.code}): ${this.lastError.hint} Waiting for a new state or config.`);
    }
  }

  /** Tell the shared renewal margin how a call went (a failure with its Retry-After). */
  private noteOutcome(startedAt: number, waitedMs: number, error: unknown): void {
    const at = this.deps.clock.now();
    const retryAfterMs = error instanceof GraphError ? error.retryAfterMs : undefined;
    this.deps.renewalMargin?.record({ at, ok: error === undefined, durationMs: at - startedAt, waitedMs, retryAfterMs });
  }

  /**
   * A 401 that survived the client's token refresh (so sign-in itself works) is retried with
   * backoff until 401s have gone on for {@link UNAUTHORIZED_GRACE_MS}; after that it is a fault.
   */
  private transientUnauthorized(error: GraphError, now: number): boolean {
    if (error.code !== 'UNAUTHORIZED') {
      this.unauthorizedSince = null;
      return false;
    }
    this.unauthorizedSince ??= now;
    const transient = now - this.unauthorizedSince < UNAUTHORIZED_GRACE_MS;
    if (!transient) {
      this.lastError = {
        ...errorInfo(error, now),
        hint: `Graph refused the token for more than ${UNAUTHORIZED_GRACE_MS / 60_000} minutes although sign-in works: ${error.hint}`,
      };
    }
    return transient;
  }

  private emitCall(event: GraphCallEvent): void {
    try {
      this.deps.onCall?.(event);
    } catch (error) {
      this.deps.logger.error(`graphCall listener failed: ${errorMessage(error)}`);
    }
  }

  private health(now: number): UserHealth {
    if (this.blocked) return 'unhealthy';
    const alive = sessionAlive(this.facts(), now);
    const converged =
      this.desired.kind === 'clear' ? !alive && !this.uncertain : alive && !this.uncertain && samePair(this.confirmed, this.desired.pair);
    if (converged) return 'ok'; // e.g. the wish went back to what Graph holds while backing off
    return this.retryAt !== null ? 'retrying' : 'pending';
  }

  private snapshot(): UserState {
    const now = this.deps.clock.now();
    const alive = sessionAlive(this.facts(), now);
    const confirmed = alive ? this.confirmed : null;
    const confirmedAt = alive ? this.confirmedAt : null;
    const renewal =
      confirmed && confirmedAt !== null && this.desired.kind === 'set' && samePair(confirmed, this.desired.pair) && !this.blocked
        ? renewalDueAt(confirmed, confirmedAt, this.deps.expirationMs, this.firstRenewalFraction, this.deps.renewalMargin?.availableMarginMs(now))
        : null;
    return {
      userKey: this.user.key,
      userId: this.user.id,
      displayName: this.user.displayName,
      desired: this.desired.kind === 'set' ? this.desired.pair : null,
      source: this.desired.kind === 'set' ? this.desired.source : null,
      confirmed,
      sessionExpiresAt: confirmedAt === null ? null : confirmedAt + this.deps.expirationMs,
      nextRenewalAt: renewal,
      health: this.health(now),
      lastError: this.lastError,
      actual: this.actual,
      overridden: isOverridden(confirmed, this.actual),
      actualFrom: explainPresence(confirmed, this.actual),
      gated: this.gated,
      updatedAt: now,
    };
  }

  private emitState(): void {
    const next = this.snapshot();
    if (this.emitted && sameUserState(next, this.current)) return;
    this.emitted = true;
    this.current = next;
    try {
      this.deps.onState?.(next);
    } catch (error) {
      this.deps.logger.error(`state listener failed: ${errorMessage(error)}`);
    }
  }

  private arm(at: number): void {
    if (this.timer && this.timerAt === at) return;
    this.disarm();
    this.timerAt = at;
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = undefined;
      try {
        this.pump();
        this.emitState();
      } catch (error) {
        this.deps.logger.error(`${this.user.key}: ${errorMessage(error)}`);
      }
    }, at - this.deps.clock.now());
  }

  private disarm(): void {
    this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = undefined;
  }
}

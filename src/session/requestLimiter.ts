import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import { DueQueue, RATE_WINDOW_MS, RequestBudget } from '../presence/rateLimiter.js';
import type { Clock, TimerHandle } from './clock.js';

export { RATE_WINDOW_MS };

/**
 * Requests in flight at once, for all users. Without a cap, thousands of users set at start-up
 * would open as many TLS connections at the same moment (undici opens one per concurrent request);
 * 32 carries 1,500 requests per 30 s even at a 500 ms round trip.
 */
export const MAX_IN_FLIGHT = 32;

/**
 * A sliding 30 s window alone lets a saturated queue go out in one burst each time the window
 * frees (1,490 requests in one second, every 30 s). Grants are also paced: in any second at
 * most twice the average rate the budget allows (and at least 10), so requests stay spread out.
 */
export const PACE_WINDOW_MS = 1_000;
export const PACE_FACTOR = 2;
export const MIN_PER_PACE_WINDOW = 10;

export function pacePerSecond(maxPer30s: number): number {
  return Math.max(MIN_PER_PACE_WINDOW, Math.ceil(((maxPer30s * PACE_WINDOW_MS) / RATE_WINDOW_MS) * PACE_FACTOR));
}

/** A queued request; cancel it when the caller no longer needs the slot. */
export interface LimiterTicket {
  cancel(): void;
}

interface Waiting {
  readonly deadline: number;
  /** Returns the call's promise, or null when the work is no longer needed (no slot is used). */
  readonly run: () => Promise<unknown> | null;
  cancelled: boolean;
}

/**
 * The one gate every Graph presence request of the bridge passes: at most `maxPer30s` in any
 * 30 s window, shared by all users, so thousands of users cannot trip Graph's per-app throttling.
 * When saturated, the request whose deadline is soonest goes first (a renewal about to fade
 * before a fresh one). Time comes from the injected clock.
 */
export class RequestLimiter {
  private readonly budget: RequestBudget;
  private readonly pace: RequestBudget;
  private readonly queue = new DueQueue<Waiting>();
  private timer: TimerHandle | undefined;
  private timerAt: number | undefined;
  private closed = false;
  private granted = 0;
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly clock: Clock,
    readonly maxPer30s: number,
    private readonly logger: Logger,
    readonly maxInFlight: number = MAX_IN_FLIGHT,
  ) {
    this.budget = new RequestBudget(maxPer30s, RATE_WINDOW_MS);
    this.pace = new RequestBudget(pacePerSecond(maxPer30s), PACE_WINDOW_MS);
  }

  /** Queue work with a deadline (ms since epoch); it runs when the budget has room, soonest deadline first. */
  submit(deadline: number, run: () => Promise<unknown> | null): LimiterTicket {
    const waiting: Waiting = { deadline, run, cancelled: false };
    if (this.closed) return { cancel: () => undefined };
    this.queue.push(waiting, deadline);
    this.drain();
    return {
      cancel: () => {
        waiting.cancelled = true;
      },
    };
  }

  /** Requests queued and not yet started. */
  waiting(): number {
    return this.queue.size;
  }

  /** Requests started and not yet settled. */
  inFlight(): number {
    return this.running.size;
  }

  /** Resolves once every started request has settled (new ones started meanwhile included). */
  async whenIdle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Requests granted since the limiter was made. */
  grantedCount(): number {
    return this.granted;
  }

  close(): void {
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = undefined;
    while (this.queue.size > 0) this.queue.pop();
  }

  private drain(): void {
    if (this.closed) return;
    for (;;) {
      const head = this.queue.peek()?.item;
      if (!head) return;
      if (head.cancelled) {
        this.queue.pop();
        continue;
      }
      if (this.running.size >= this.maxInFlight) return; // a settling request drains again
      const now = this.clock.now();
      if (this.budget.used(now) >= this.budget.maxPerWindow || this.pace.used(now) >= this.pace.maxPerWindow) {
        this.arm(Math.max(this.budget.nextFreeAt(now), this.pace.nextFreeAt(now)));
        return;
      }
      this.queue.pop();
      let started: Promise<unknown> | null;
      try {
        started = head.run();
      } catch (error) {
        this.logger.error(`rate limiter: queued request failed to start: ${errorMessage(error)}`);
        continue;
      }
      if (started === null) continue;
      this.budget.tryTake(now);
      this.pace.tryTake(now);
      this.granted++;
      const tracked = started
        .catch((error: unknown) => this.logger.debug(`rate limiter: request failed: ${errorMessage(error)}`))
        .finally(() => {
          this.running.delete(tracked);
          this.drain();
        });
      this.running.add(tracked);
    }
  }

  private arm(at: number): void {
    if (this.timer && this.timerAt !== undefined && this.timerAt <= at) return;
    this.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = undefined;
      this.drain();
    }, at - this.clock.now());
  }
}

import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import { DueQueue, RATE_WINDOW_MS, RequestBudget } from '../presence/rateLimiter.js';
import type { Clock, TimerHandle } from '../shared/clock.js';

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

/**
 * Commands (an MQTT `prefer`, anything a person or device asks for directly) may take at most
 * this share of the budget, of the pace and of the requests in flight; the rest is held for the
 * work that keeps sessions alive (sets, renewals, clears, read-back), so a flood of commands can
 * slow other commands but never a renewal.
 */
export const COMMAND_SHARE = 0.25;
/** Commands waiting for a slot, for all users; past this a new one is refused at once. */
export const MAX_QUEUED_COMMANDS = 1000;

export function commandShareOf(total: number): number {
  return Math.max(1, Math.floor(total * COMMAND_SHARE));
}

/**
 * A renewal this close to its deadline goes before every other request, whatever their
 * deadlines: a session that lapses costs the user their state; a change that waits a little costs
 * a little. Renewals are few (one per session per renewal interval), so this cannot starve changes.
 */
export const RENEWAL_URGENT_MS = 60_000;

/**
 * `renewal`: keeps an asserted session alive (urgent near its deadline, see
 * {@link RENEWAL_URGENT_MS}); `upkeep` (default): other session work and read-back; `command`:
 * asked for directly, capped at {@link COMMAND_SHARE}.
 */
export type RequestClass = 'upkeep' | 'renewal' | 'command';

export interface SubmitOptions {
  readonly kind?: RequestClass;
  /** Called (instead of `run`) when the request is refused because the command queue is full. */
  readonly onRefused?: () => void;
}

/** A queued request; cancel it when the caller no longer needs the slot. */
export interface LimiterTicket {
  cancel(): void;
}

interface Waiting {
  readonly deadline: number;
  readonly kind: RequestClass;
  /** Returns the call's promise, or null when the work is no longer needed (no slot is used). */
  readonly run: () => Promise<unknown> | null;
  cancelled: boolean;
}

/**
 * The one gate every Graph presence request of the bridge passes: at most `maxPer30s` in any
 * 30 s window (a request counts from its dispatch until 30 s after its answer, so Graph, which
 * counts arrivals, never sees more), shared by all users, so thousands of users cannot trip Graph's per-app throttling.
 * When saturated, the request whose deadline is soonest goes first (a renewal about to fade
 * before a fresh one). Time comes from the injected clock.
 */
export class RequestLimiter {
  private readonly budget: RequestBudget;
  private readonly pace: RequestBudget;
  private readonly queue = new DueQueue<Waiting>();
  private readonly commands = new DueQueue<Waiting>();
  private readonly renewals = new DueQueue<Waiting>();
  private readonly commandBudget: RequestBudget;
  private readonly commandPace: RequestBudget;
  private readonly maxCommandsInFlight: number;
  private commandsRunning = 0;
  /** The queue-full warning is logged once until the command queue empties again. */
  private refusing = false;
  private timer: TimerHandle | undefined;
  private timerAt: number | undefined;
  private closed = false;
  private granted = 0;
  /** Requests in flight, with the time each was dispatched. */
  private readonly running = new Map<Promise<unknown>, number>();

  constructor(
    private readonly clock: Clock,
    readonly maxPer30s: number,
    private readonly logger: Logger,
    readonly maxInFlight: number = MAX_IN_FLIGHT,
  ) {
    this.budget = new RequestBudget(maxPer30s, RATE_WINDOW_MS);
    this.pace = new RequestBudget(pacePerSecond(maxPer30s), PACE_WINDOW_MS);
    this.commandBudget = new RequestBudget(commandShareOf(maxPer30s), RATE_WINDOW_MS);
    this.commandPace = new RequestBudget(commandShareOf(pacePerSecond(maxPer30s)), PACE_WINDOW_MS);
    this.maxCommandsInFlight = commandShareOf(maxInFlight);
  }

  /**
   * Queue work with a deadline (ms since epoch); it runs when the budget has room, soonest
   * deadline first. A command beyond {@link MAX_QUEUED_COMMANDS} waiting is refused.
   */
  submit(deadline: number, run: () => Promise<unknown> | null, options: SubmitOptions = {}): LimiterTicket {
    const kind = options.kind ?? 'upkeep';
    const waiting: Waiting = { deadline, kind, run, cancelled: false };
    if (this.closed) return { cancel: () => undefined };
    if (kind === 'command') {
      if (this.commands.size >= MAX_QUEUED_COMMANDS) {
        if (!this.refusing) this.logger.warn(`rate limiter: ${MAX_QUEUED_COMMANDS} commands are already waiting for Graph; new ones are refused until the queue drains`);
        this.refusing = true;
        options.onRefused?.();
        return { cancel: () => undefined };
      }
      if (this.commands.size === 0) this.refusing = false;
      this.commands.push(waiting, deadline);
    } else if (kind === 'renewal') {
      this.renewals.push(waiting, deadline);
    } else {
      this.queue.push(waiting, deadline);
    }
    this.drain();
    return {
      cancel: () => {
        waiting.cancelled = true;
      },
    };
  }

  /** Requests queued and not yet started. */
  waiting(): number {
    return this.queue.size + this.renewals.size + this.commands.size;
  }

  /** Requests started and not yet settled. */
  inFlight(): number {
    return this.running.size;
  }

  /** Resolves once every started request has settled (new ones started meanwhile included). */
  async whenIdle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.keys()]);
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
    while (this.commands.size > 0) this.commands.pop();
    while (this.renewals.size > 0) this.renewals.pop();
  }

  private drain(): void {
    if (this.closed) return;
    for (;;) {
      const now = this.clock.now();
      const head = this.nextEligible(now);
      if (!head) return;
      if (this.running.size >= this.maxInFlight) return; // a settling request drains again
      const budgetFreeAt = this.budgetFreeAt(now);
      if (budgetFreeAt !== now || this.pace.used(now) >= this.pace.maxPerWindow) {
        // undefined: the budget is held by requests in flight only, and one settling drains again
        if (budgetFreeAt !== undefined) this.arm(Math.max(budgetFreeAt, this.pace.nextFreeAt(now)));
        return;
      }
      const isCommand = head.kind === 'command';
      this.queueOf(head.kind).pop();
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
      if (isCommand) {
        this.commandBudget.tryTake(now);
        this.commandPace.tryTake(now);
        this.commandsRunning++;
      }
      this.granted++;
      const tracked = started
        .catch((error: unknown) => this.logger.debug(`rate limiter: request failed: ${errorMessage(error)}`))
        .finally(() => {
          // Graph counts a request when it arrives, between its dispatch and its answer: re-dated
          // to its answer, its slot is in our window whenever it can be in Graph's
          this.budget.move(now, this.clock.now());
          this.running.delete(tracked);
          if (isCommand) this.commandsRunning--;
          this.drain();
        });
      this.running.set(tracked, now);
    }
  }

  /**
   * The request to start next: a renewal near its deadline first; otherwise the soonest deadline
   * of the three queues, where a command counts only while commands are within their share
   * (otherwise a timer is armed for when they are again).
   */
  private nextEligible(now: number): Waiting | undefined {
    const renewal = this.headOf(this.renewals);
    if (renewal && renewal.deadline - now <= RENEWAL_URGENT_MS) return renewal;
    const upkeep = this.headOf(this.queue);
    let best = renewal && (!upkeep || renewal.deadline < upkeep.deadline) ? renewal : upkeep;
    const command = this.headOf(this.commands);
    if (!command) return best;
    let commandAllowed = this.commandsRunning < this.maxCommandsInFlight;
    if (commandAllowed && (this.commandBudget.used(now) >= this.commandBudget.maxPerWindow || this.commandPace.used(now) >= this.commandPace.maxPerWindow)) {
      commandAllowed = false;
      this.arm(Math.max(this.commandBudget.nextFreeAt(now), this.commandPace.nextFreeAt(now)));
    }
    if (commandAllowed && (!best || command.deadline < best.deadline)) best = command;
    return best;
  }

  /**
   * When the budget has a slot: `now`, a later time, or undefined until a request in flight
   * settles. Slots are requests dispatched or answered in the last 30 s, and any request still in
   * flight whose dispatch already left the window (a hung one, until its timeout).
   */
  private budgetFreeAt(now: number): number | undefined {
    const counted = this.budget.used(now);
    if (counted >= this.budget.maxPerWindow) return this.budget.nextFreeAt(now);
    let stale = 0;
    for (const dispatched of this.running.values()) if (dispatched + RATE_WINDOW_MS <= now) stale++;
    return counted + stale < this.budget.maxPerWindow ? now : this.budget.oldestFreesAt(now);
  }

  private queueOf(kind: RequestClass): DueQueue<Waiting> {
    if (kind === 'command') return this.commands;
    if (kind === 'renewal') return this.renewals;
    return this.queue;
  }

  /** The head of `queue`, dropping cancelled work on the way. */
  private headOf(queue: DueQueue<Waiting>): Waiting | undefined {
    for (;;) {
      const head = queue.peek()?.item;
      if (!head || !head.cancelled) return head;
      queue.pop();
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

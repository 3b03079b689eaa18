import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import { RequestBudget } from '../presence/rateLimiter.js';
import type { Clock, TimerHandle } from '../shared/clock.js';

/** Commands applied per user and topic in any {@link COMMAND_WINDOW_MS}; the rest merge into the latest. */
export const COMMANDS_PER_WINDOW = 10;
export const COMMAND_WINDOW_MS = 30_000;

export interface CommandGateOptions {
  readonly perWindow?: number;
  readonly windowMs?: number;
}

/**
 * What became of an offered command: started now; waiting for the one at work (latest wins);
 * or throttled, waiting because the lane used its budget (latest wins too).
 */
export type Offered = 'started' | 'waiting' | 'throttled';

interface Lane {
  readonly budget: RequestBudget;
  busy: boolean;
  pending: (() => Promise<void> | void) | undefined;
  timer: TimerHandle | undefined;
}

/** What {@link CommandGate.tryRun} did: ran the command (with what it returned), or refused it until `retryAfterMs` from now. */
export type Tried<T> = { readonly ran: true; readonly result: T } | { readonly ran: false; readonly retryAfterMs: number };

/** How long a refused command should wait when its lane is busy rather than out of budget (a Graph call at work). */
const BUSY_RETRY_MS = 1000;

/**
 * Commands of one user and topic (`alex/prefer`), one at a time and at most `perWindow` in any
 * window: a command that arrives while one is at work (a `prefer` waiting for Graph) or while the
 * budget is used replaces the one waiting, so a flood costs at most one waiting command per user
 * and topic, and the latest always wins. A caller that can answer (the HTTP API) uses
 * {@link tryRun} instead: the same lanes and budget, but a command that cannot run now is refused
 * with the time to wait, not kept. Time comes from the injected clock.
 */
export class CommandGate {
  private readonly lanes = new Map<string, Lane>();
  private readonly perWindow: number;
  private readonly windowMs: number;
  private closed = false;
  private mergedCount = 0;

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    options: CommandGateOptions = {},
  ) {
    this.perWindow = options.perWindow ?? COMMANDS_PER_WINDOW;
    this.windowMs = options.windowMs ?? COMMAND_WINDOW_MS;
  }

  /** Runs `run` now if the lane is free, else keeps it as the lane's next command (dropping the one kept before). */
  offer(key: string, run: () => Promise<void> | void): Offered {
    if (this.closed) return 'throttled';
    const lane = this.laneOf(key);
    const now = this.clock.now();
    if (!lane.busy && lane.pending === undefined && lane.budget.used(now) < lane.budget.maxPerWindow) {
      this.start(key, lane, run, now);
      return 'started';
    }
    if (lane.pending !== undefined) this.mergedCount++;
    lane.pending = run;
    this.schedule(key, lane);
    return lane.budget.used(now) >= lane.budget.maxPerWindow ? 'throttled' : 'waiting';
  }

  /**
   * Runs `run` now if the lane is free (nothing at work, nothing waiting, budget left) and returns
   * what it returned; otherwise runs nothing and says how long to wait.
   */
  tryRun<T extends Promise<void> | void>(key: string, run: () => T): Tried<T> {
    const now = this.clock.now();
    if (this.closed) return { ran: false, retryAfterMs: BUSY_RETRY_MS };
    const lane = this.laneOf(key);
    if (lane.budget.used(now) >= lane.budget.maxPerWindow) return { ran: false, retryAfterMs: lane.budget.nextFreeAt(now) - now };
    if (lane.busy || lane.pending !== undefined) return { ran: false, retryAfterMs: BUSY_RETRY_MS };
    let result: T | undefined;
    this.start(key, lane, () => (result = run()), now);
    return { ran: true, result: result as T };
  }

  /** Commands replaced by a later one before they ran, since the gate was made. */
  merged(): number {
    return this.mergedCount;
  }

  close(): void {
    this.closed = true;
    for (const lane of this.lanes.values()) {
      this.clock.clearTimeout(lane.timer);
      lane.timer = undefined;
      lane.pending = undefined;
    }
  }

  private laneOf(key: string): Lane {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { budget: new RequestBudget(this.perWindow, this.windowMs), busy: false, pending: undefined, timer: undefined };
      this.lanes.set(key, lane);
    }
    return lane;
  }

  private start(key: string, lane: Lane, run: () => Promise<void> | void, now: number): void {
    lane.budget.tryTake(now);
    lane.busy = true;
    const done = (): void => {
      lane.busy = false;
      this.schedule(key, lane);
    };
    let result: Promise<void> | void;
    try {
      result = run();
    } catch (error) {
      this.logger.error(`command ${key} failed: ${errorMessage(error)}`);
      done();
      return;
    }
    if (result === undefined) done();
    else result.catch((error: unknown) => this.logger.debug(`command ${key} failed: ${errorMessage(error)}`)).finally(done);
  }

  /** Starts the waiting command when the lane is free and has budget, or arms a timer for when it will. */
  private schedule(key: string, lane: Lane): void {
    if (this.closed || lane.busy || lane.pending === undefined || lane.timer) return;
    const now = this.clock.now();
    if (lane.budget.used(now) < lane.budget.maxPerWindow) {
      const run = lane.pending;
      lane.pending = undefined;
      this.start(key, lane, run, now);
      return;
    }
    lane.timer = this.clock.setTimeout(() => {
      lane.timer = undefined;
      this.schedule(key, lane);
    }, lane.budget.nextFreeAt(now) - now);
  }
}

/**
 * Time for everything that schedules: the publisher, the rate limiter, renewals, the emulator.
 * Production uses {@link systemClock}; tests and benchmarks use {@link ManualClock} and move time.
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/**
 * Node's `setTimeout` takes at most 2^31-1 ms (about 24.8 days); a longer delay is clamped to
 * 1 ms with a TimeoutOverflowWarning, so a timer meant for next month fires at once and a loop
 * that re-arms it spins. https://nodejs.org/api/timers.html#settimeoutcallback-delay-args
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * The next step of a long wait: how long to sleep now, and whether the wait is over after it.
 * A delay that is not a number counts as 0; an infinite one never ends.
 */
export function nextTimerStep(remainingMs: number, maxStepMs: number = MAX_TIMER_DELAY_MS): { readonly sleepMs: number; readonly last: boolean } {
  const remaining = Number.isNaN(remainingMs) ? 0 : Math.max(0, remainingMs);
  if (remaining <= maxStepMs) return { sleepMs: remaining, last: true };
  return { sleepMs: maxStepMs, last: false };
}

export interface SystemClockOptions {
  /** Longest single Node timer; longer delays are re-armed in steps of this size. */
  readonly maxStepMs?: number;
}

class SystemClock implements Clock {
  private next = 1;
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly maxStepMs: number;

  constructor(options: SystemClockOptions) {
    this.maxStepMs = Math.max(1, Math.min(MAX_TIMER_DELAY_MS, Math.floor(options.maxStepMs ?? MAX_TIMER_DELAY_MS)));
  }

  now(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.next++;
    const due = this.now() + (Number.isNaN(delayMs) ? 0 : Math.max(0, delayMs));
    this.arm(id, due, callback);
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const timer = this.timers.get(handle.id);
    if (timer) clearTimeout(timer);
    this.timers.delete(handle.id);
  }

  /** One Node timer towards `due`; a wait longer than one step arms the next step when it ends. */
  private arm(id: number, due: number, callback: () => void): void {
    const step = nextTimerStep(due - this.now(), this.maxStepMs);
    const timer = setTimeout(() => {
      if (this.timers.get(id) !== timer) return;
      if (!step.last && due - this.now() > 0) {
        this.arm(id, due, callback);
        return;
      }
      this.timers.delete(id);
      callback();
    }, step.sleepMs);
    timer.unref?.();
    this.timers.set(id, timer);
  }
}

/**
 * Real time. Timers are unref'd: an open socket or server, not a pending renewal, is what keeps
 * a daemon alive.
 */
export function createSystemClock(options: SystemClockOptions = {}): Clock {
  return new SystemClock(options);
}

export const systemClock: Clock = createSystemClock();

interface ManualTimer {
  id: number;
  due: number;
  seq: number;
  callback: () => void;
}

/**
 * A clock that only moves when told. `advance` fires due timers in time order, setting `now` to
 * each timer's due time before running it, and yields to the event loop between timers so that
 * promise chains started by one timer can settle before the next fires.
 */
export class ManualClock implements Clock {
  private current: number;
  private next = 1;
  private seq = 0;
  private readonly timers = new Map<number, ManualTimer>();

  constructor(start: number = Date.UTC(2026, 0, 5, 9, 0, 0)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.next++;
    this.timers.set(id, { id, due: this.current + Math.max(0, delayMs), seq: this.seq++, callback });
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.timers.delete(handle.id);
  }

  /** Number of timers waiting. */
  pending(): number {
    return this.timers.size;
  }

  /** Due time of the earliest timer, if any. */
  nextDue(): number | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.timers.values()) if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    return best?.due;
  }

  /** Move time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number, settle: () => Promise<void> = yieldToEventLoop): Promise<void> {
    await this.advanceTo(this.current + ms, settle);
  }

  async advanceTo(target: number, settle: () => Promise<void> = yieldToEventLoop): Promise<void> {
    for (;;) {
      let due: ManualTimer | undefined;
      for (const t of this.timers.values()) {
        if (t.due > target) continue;
        if (!due || t.due < due.due || (t.due === due.due && t.seq < due.seq)) due = t;
      }
      if (!due) break;
      this.timers.delete(due.id);
      this.current = Math.max(this.current, due.due);
      due.callback();
      await settle();
    }
    this.current = Math.max(this.current, target);
    await settle();
  }
}

/** Let pending promise callbacks and I/O callbacks run once. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Real time sped up `scale` times from the moment it is made (the demo and `emulator
 * --time-scale`): a 5-minute fade passes in 5 s at scale 60. Timers are scaled the same way.
 */
export function createScaledClock(scale: number, base: Clock = systemClock): Clock {
  if (!(scale > 0)) throw new RangeError(`time scale must be positive, got ${scale}`);
  const realStart = base.now();
  return {
    now: () => realStart + (base.now() - realStart) * scale,
    setTimeout: (callback, delayMs) => base.setTimeout(callback, delayMs / scale),
    clearTimeout: (handle) => base.clearTimeout(handle),
  };
}

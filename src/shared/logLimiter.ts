import type { Logger } from '../logger.js';
import type { Clock, TimerHandle } from './clock.js';
import { printable } from './printable.js';

export interface LogLimiterOptions {
  /** Lines per key per window before it goes quiet. */
  readonly perKey?: number;
  /** Lines over all keys per window. */
  readonly total?: number;
  readonly windowMs?: number;
  /** Distinct keys tracked; past this, new keys share one bucket. */
  readonly maxKeys?: number;
  /** Log level of the lines and of the summaries (default warn). */
  readonly level?: 'warn' | 'debug';
  /** What the summary line calls the held-back lines (default "dropped message(s)"). */
  readonly noun?: string;
}

interface Bucket {
  logged: number;
  suppressed: number;
}

const OVERFLOW_KEY = '(other topics)';

/**
 * Warnings about dropped input, at most `perKey` lines per key (topic) and `total` lines overall
 * per window; what was held back is summed up in one line when the window ends, so a flooding
 * device cannot fill the log.
 */
export class LogLimiter {
  private readonly perKey: number;
  private readonly total: number;
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly write: (message: string) => void;
  private readonly noun: string;
  private buckets = new Map<string, Bucket>();
  private loggedTotal = 0;
  private timer: TimerHandle | undefined;

  constructor(
    logger: Logger,
    private readonly clock: Clock,
    options: LogLimiterOptions = {},
  ) {
    this.perKey = options.perKey ?? 5;
    this.total = options.total ?? 50;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxKeys = options.maxKeys ?? 1000;
    this.write = options.level === 'debug' ? (m) => logger.debug(m) : (m) => logger.warn(m);
    this.noun = options.noun ?? 'dropped message(s)';
  }

  /** Logs `message` unless `key` or the total is over its budget; true when it was logged. */
  warn(key: string, message: string): boolean {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      const k = this.buckets.size >= this.maxKeys ? OVERFLOW_KEY : key;
      bucket = this.buckets.get(k) ?? { logged: 0, suppressed: 0 };
      this.buckets.set(k, bucket);
    }
    if (!this.timer) this.timer = this.clock.setTimeout(() => this.endWindow(), this.windowMs);
    if (bucket.logged < this.perKey && this.loggedTotal < this.total) {
      bucket.logged++;
      this.loggedTotal++;
      this.write(message);
      return true;
    }
    bucket.suppressed++;
    return false;
  }

  /** Ends the current window now: logs the summaries and forgets the counts. */
  flush(): void {
    this.clock.clearTimeout(this.timer);
    this.endWindow();
  }

  private endWindow(): void {
    this.timer = undefined;
    const seconds = Math.round(this.windowMs / 1000);
    for (const [key, bucket] of this.buckets) {
      if (bucket.suppressed > 0) this.write(`${bucket.suppressed} more ${this.noun} on ${printable(key)} in the last ${seconds} s were not logged`);
    }
    this.buckets = new Map();
    this.loggedTotal = 0;
  }
}

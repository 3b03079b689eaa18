import { performance } from 'node:perf_hooks';

/**
 * Real time between the starts of two writes of one state file while changes keep coming. A
 * state file is rewritten whole (every user or intent it holds), so writing it once per change
 * costs, at hundreds of first signals a second, a JSON of thousands of entries and five file
 * system calls per signal, and the garbage that comes with them. Changes made meanwhile go into
 * the next write. The first change after a quiet spell is written at once.
 */
export const WRITE_SPACING_MS = 250;

/**
 * Runs `write` for changes recorded with {@link request}: one write at a time, the changes
 * recorded while one runs or waits coalesced into the next, and writes spaced at least
 * `spacingMs` apart (real time: this paces disk work, it schedules nothing a user sees).
 * {@link flush} cuts any wait short. The waiting timer does not keep the process alive: a stop
 * flushes.
 */
export class CoalescedWrites {
  private chain: Promise<void> = Promise.resolve();
  private pending = false;
  private lastStart = Number.NEGATIVE_INFINITY;
  private wake: (() => void) | undefined;
  private hurry = 0;

  constructor(
    private readonly write: () => Promise<void>,
    private readonly spacingMs: number = WRITE_SPACING_MS,
  ) {}

  /** Something changed: make sure a write that includes it follows. */
  request(): void {
    if (this.pending) return;
    this.pending = true;
    this.chain = this.chain.then(() => this.turn()).then(() => this.run());
  }

  /** Resolves once every change requested so far is written (no spacing wait). */
  async flush(): Promise<void> {
    this.hurry++;
    this.wake?.();
    try {
      await this.chain;
    } finally {
      this.hurry--;
    }
  }

  private turn(): Promise<void> {
    const wait = this.lastStart + this.spacingMs - performance.now();
    // setImmediate: a write never runs inside the caller's own work (a signal's mapping, arbiter
    // and Graph call come first), and changes made in the same turn share it.
    if (wait <= 0 || this.hurry > 0) return new Promise((resolve) => setImmediate(resolve));
    return new Promise((resolve) => {
      const timer = setTimeout(done, wait);
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  private async run(): Promise<void> {
    this.wake = undefined;
    this.pending = false;
    this.lastStart = performance.now();
    // the writers log their own failures; one that throws must not stop the writes after it
    await this.write().catch(() => undefined);
  }
}

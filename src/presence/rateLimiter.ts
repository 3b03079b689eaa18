/**
 * Request budget for Graph's presence throttle ("at most N requests per application per tenant in
 * any 30 s"), and a queue that hands out waiting work by due time. Both pure: time is passed in.
 */

/** The window Graph's presence throttle counts over. */
export const RATE_WINDOW_MS = 30_000;

/**
 * Sliding-window log: a request taken at `t` occupies one of the `max` slots until
 * `t + windowMs`. Exact (no burst at window edges, unlike a fixed window), and the memory is at
 * most `max` numbers. Time is expected not to go backwards; if it does, older entries simply
 * stay counted until the clock passes them again.
 */
export class RequestBudget {
  private readonly taken: number[] = [];
  private head = 0;

  constructor(
    readonly maxPerWindow: number,
    readonly windowMs: number = RATE_WINDOW_MS,
  ) {
    if (!Number.isInteger(maxPerWindow) || maxPerWindow < 1) throw new RangeError(`maxPerWindow must be a positive integer, got ${maxPerWindow}`);
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${windowMs}`);
  }

  private expire(now: number): void {
    while (this.head < this.taken.length && this.taken[this.head]! + this.windowMs <= now) this.head++;
    // Compact now and then so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.taken.length) {
      this.taken.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Requests counted in the window ending at `now`. */
  used(now: number): number {
    this.expire(now);
    return this.taken.length - this.head;
  }

  /** Take a slot for a request sent at `now`; false (and nothing taken) when the window is full. */
  tryTake(now: number): boolean {
    if (this.used(now) >= this.maxPerWindow) return false;
    this.taken.push(now);
    return true;
  }

  /**
   * Re-date a slot taken at `from` to `to` (later): a request counted from its dispatch that was
   * answered only at `to` holds its slot for the window from then. A slot that already left the
   * window is counted again from `to`.
   */
  move(from: number, to: number): void {
    if (to <= from) return;
    const at = this.indexOf(from, this.head);
    if (at < this.taken.length && this.taken[at] === from) this.taken.splice(at, 1);
    this.taken.splice(this.indexOf(to + 1, this.head), 0, to);
  }

  /** The first index at or after `from` whose stamp is not below `value` (the stamps are sorted). */
  private indexOf(value: number, from: number): number {
    let lo = from;
    let hi = this.taken.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.taken[mid]! < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** When the oldest slot in the window leaves it (undefined when the window is empty). */
  oldestFreesAt(now: number): number | undefined {
    return this.used(now) > 0 ? this.taken[this.head]! + this.windowMs : undefined;
  }

  /** The earliest time at or after `now` when {@link tryTake} will succeed. */
  nextFreeAt(now: number): number {
    if (this.used(now) < this.maxPerWindow) return now;
    // Full: the slot that frees first is the one that was taken `maxPerWindow` requests ago.
    return this.taken[this.taken.length - this.maxPerWindow]! + this.windowMs;
  }
}

interface Entry<T> {
  readonly item: T;
  readonly due: number;
  readonly seq: number;
}

/**
 * Min-heap of items by due time (ties: first pushed first). When the budget is saturated the
 * publisher takes work from here, so the renewal due soonest goes first.
 */
export class DueQueue<T> {
  private heap: Entry<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(item: T, due: number): void {
    this.heap.push({ item, due, seq: this.seq++ });
    this.up(this.heap.length - 1);
  }

  /** The earliest item and its due time, without removing it. */
  peek(): { item: T; due: number } | undefined {
    const top = this.heap[0];
    return top ? { item: top.item, due: top.due } : undefined;
  }

  /** Remove and return the earliest item if it is due at `now` (due <= now). */
  popDue(now: number): T | undefined {
    const top = this.heap[0];
    if (!top || top.due > now) return undefined;
    return this.pop();
  }

  /** Remove and return the earliest item, due or not. */
  pop(): T | undefined {
    const top = this.heap[0];
    if (!top) return undefined;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return top.item;
  }

  /** Remove every entry whose item matches (e.g. a user's pending renewal being rescheduled). */
  remove(match: (item: T) => boolean): number {
    const before = this.heap.length;
    const kept = this.heap.filter((e) => !match(e.item));
    if (kept.length === before) return 0;
    this.heap = [];
    for (const e of kept.sort((a, b) => a.due - b.due || a.seq - b.seq)) this.heap.push(e);
    return before - kept.length;
  }

  private less(a: Entry<T>, b: Entry<T>): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < h.length && this.less(h[l]!, h[best]!)) best = l;
      if (r < h.length && this.less(h[r]!, h[best]!)) best = r;
      if (best === i) return;
      [h[i], h[best]] = [h[best]!, h[i]!];
      i = best;
    }
  }
}

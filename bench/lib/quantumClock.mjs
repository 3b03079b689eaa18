// Shared by the benches that simulate hours on a moved clock.
/**
 * A Clock for long simulations (bench/publisher, bench/fleet): timers in a binary heap, moved in
 * quanta. Every timer due within a quantum fires in time order with `now` at its due
 * time; then the simulation settles once (in-flight HTTPS calls land), so a request reaches the
 * emulator up to one quantum after the bridge granted it.
 */
export class QuantumClock {
  constructor(start) {
    this.current = start;
  }

  heap = [];
  seq = 0;
  ids = 1;
  cancelled = new Set();
  now() {
    return this.current;
  }
  setTimeout(callback, delayMs) {
    const id = this.ids++;
    this.push({ id, due: this.current + Math.max(0, delayMs), seq: this.seq++, callback });
    return { id };
  }
  clearTimeout(handle) {
    if (handle) this.cancelled.add(handle.id);
  }
  push(t) {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  pop() {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let b = i;
        if (l < h.length && before(h[l], h[b])) b = l;
        if (r < h.length && before(h[r], h[b])) b = r;
        if (b === i) break;
        [h[i], h[b]] = [h[b], h[i]];
        i = b;
      }
    }
    return top;
  }
  async run(untilMs, quantumMs, settle, each) {
    while (this.current < untilMs) {
      const target = Math.min(untilMs, this.current + quantumMs);
      while (this.heap.length > 0 && this.heap[0].due <= target) {
        const t = this.pop();
        if (this.cancelled.delete(t.id)) continue;
        this.current = Math.max(this.current, t.due);
        t.callback();
      }
      this.current = target;
      await settle();
      if (each) await each(this.current);
    }
  }
}
function before(a, b) {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

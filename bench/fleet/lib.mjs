// Shared parts of the fleet sizing benchmark (issue 19): the build's location, a clock for long
// simulations, sliding-window counts and formatting.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DIST = process.env.PRESENCE_BRIDGE_DIST ?? join(ROOT, 'dist');
export const WORK = join(ROOT, 'bench/.work/fleet');
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const START = Date.UTC(2026, 0, 5, 8, 0, 0);

export function requireBuild() {
  for (const f of ['cli/main.js', 'emulator/index.js', 'fleet/index.js']) {
    if (!existsSync(join(DIST, f))) throw new Error(`no build in ${DIST}: run npm run build first`);
  }
}

export const load = (file) => import(pathToFileURL(join(DIST, file)).href);

export function commit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * A Clock for long simulations (the same idea as bench/publisher's): timers in a binary heap,
 * moved in quanta. Every timer due within a quantum fires in time order with `now` at its due
 * time; then the simulation settles once (in-flight HTTPS calls land), so a request reaches the
 * emulator up to one quantum after the bridge granted it.
 */
export class QuantumClock {
  current = START;
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

/** The largest number of the sorted times in any window of `windowMs` (sliding). */
export function maxInWindow(sortedTimes, windowMs = 30_000) {
  let max = 0;
  for (let i = 0, j = 0; i < sortedTimes.length; i++) {
    while (sortedTimes[i] - sortedTimes[j] >= windowMs) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

export const fmt = (n, digits = 1) => (n === null || n === undefined || Number.isNaN(n) ? '-' : Number(n.toFixed(digits)).toLocaleString('en-US'));
export const int = (n) => Math.round(n).toLocaleString('en-US');

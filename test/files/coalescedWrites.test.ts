import { describe, expect, it } from 'vitest';
import { CoalescedWrites } from '../../src/files/coalescedWrites.js';

// The writer behind the session ledger and the intent store (issue 16). A spacing of an hour makes
// "not yet written" certain for the test's duration without measuring any time.
const HOUR = 3_600_000;

function writer(): { writes: CoalescedWrites; count: () => number; next: () => Promise<void> } {
  let count = 0;
  let waiting: (() => void) | undefined;
  const writes = new CoalescedWrites(() => {
    count++;
    waiting?.();
    return Promise.resolve();
  }, HOUR);
  return { writes, count: () => count, next: () => new Promise<void>((resolve) => (waiting = resolve)) };
}

describe('coalesced state file writes', () => {
  it('the first change after a quiet spell is written at once', async () => {
    const w = writer();
    const written = w.next();
    w.writes.request();
    await written;
    expect(w.count()).toBe(1);
  });

  it('changes within the spacing share one later write, and a flush writes them without waiting', async () => {
    const w = writer();
    const first = w.next();
    w.writes.request();
    await first;
    for (let i = 0; i < 50; i++) {
      w.writes.request();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(w.count()).toBe(1); // the spacing (an hour) holds the next write
    await w.writes.flush();
    expect(w.count()).toBe(2); // all 50 changes in one write
    await w.writes.flush();
    expect(w.count()).toBe(2); // nothing new: nothing written
  });

  it('a write that throws does not stop the ones after it', async () => {
    let calls = 0;
    const writes = new CoalescedWrites(() => {
      calls++;
      return calls === 1 ? Promise.reject(new Error('disk full')) : Promise.resolve();
    }, HOUR);
    writes.request();
    await writes.flush();
    writes.request();
    await writes.flush();
    expect(calls).toBe(2);
  });
});

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock.js';
import { SerialPortLink, STABLE_OPEN_MS } from '../../src/serial/serialPortLink.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { capturingLogger } from '../helpers/logger.js';
import { createPtyPair } from '../helpers/socat.js';
import { waitFor } from '../helpers/waitFor.js';

const cleanups = cleanupAfterEach();

describe('SerialPortLink backoff on a real PTY', () => {
  it('a port that drops right after opening keeps backing off; one that stayed open starts over', async () => {
    const p = await createPtyPair();
    cleanups.push(() => p.close());
    const clock = new ManualClock();
    const logger = capturingLogger();
    const attempts: number[] = [];
    const link = new SerialPortLink({
      path: p.a,
      baudRate: 9600,
      clock,
      logger,
      reconnectDelay: (attempt) => {
        attempts.push(attempt);
        return 1000;
      },
    });
    cleanups.push(() => link.stop());
    let connects = 0;
    link.events.on('connected', () => connects++);
    link.start();
    await waitFor(() => connects === 1, { what: 'open' });

    // Flapping: each replug is dropped again at once (no time passes while open).
    for (let round = 2; round <= 3; round++) {
      await p.kill();
      await waitFor(() => !link.connected, { what: 'drop' });
      await p.restart();
      await waitFor(() => connects === round, { what: `reconnect ${round}`, onPoll: () => clock.advance(1000) });
    }
    expect(attempts).toEqual([1, 2]);

    // Stable for long enough: the next loss starts from the first step again.
    await clock.advance(STABLE_OPEN_MS);
    await p.kill();
    await waitFor(() => !link.connected, { what: 'drop after a stable period' });
    expect(attempts).toEqual([1, 2, 1]);
    // One warning and one recovery line per episode, whatever the number of attempts.
    expect(logger.count('warn', /disconnected/)).toBe(3);
    expect(logger.count('info', /is back/)).toBe(2);
  });
});

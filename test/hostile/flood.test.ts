import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import type { Mosquitto } from '../helpers/mosquitto.js';
import { hostileBridge, online, waitFor } from './support.js';

/**
 * A 10,000-message `prefer` flood for one user, published on a real Mosquitto, while another
 * user holds a session that must be renewed (PT5M). The clock is moved by the test; "on time"
 * means the other user's session never lapses at the emulator and no gap between its setPresence
 * calls is longer than the session's expiration.
 */

let broker: Mosquitto;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker.close();
});
const cleanups = cleanupAfterEach();

const FLOOD = 10_000;
const PAIRS = ['Busy/Busy', 'Away/Away', 'BeRightBack/BeRightBack', 'Available/Available'];
const EXPIRATION_MS = 5 * 60_000;

describe('a prefer flood', () => {
  it("another user's renewals stay on time during a 10,000-message prefer flood; the flood merges to its latest", async () => {
    const s = await hostileBridge({
      url: broker.url,
      cleanups,
      mqtt: { preferTopic: true },
      graph: { maxRequestsPer30s: 40, expiration: 'PT5M' },
      inputs: (base) => [{ name: 'Sentinel', type: 'mqtt', topic: `${base}-dev/kim`, user: 'kim', map: { on: 'Away/Away' } }],
    });
    await online(s);
    await s.watcher.publish(`${s.base}/sam/set`, 'Busy/InACall');
    await waitFor(() => s.presence('sam') === 'Busy/InACall', "sam's session", 30_000);

    // The flood, then a live input from the same publisher (MQTT keeps their order).
    for (let i = 0; i < FLOOD; i += 500) {
      const chunk: Promise<void>[] = [];
      for (let j = i; j < Math.min(FLOOD, i + 500); j++) {
        const pair = j === FLOOD - 1 ? 'DoNotDisturb/DoNotDisturb' : (PAIRS[j % PAIRS.length] ?? 'Busy/Busy');
        chunk.push(s.watcher.publish(`${s.base}/alex/prefer`, pair));
      }
      await Promise.all(chunk);
    }
    await s.watcher.publish(`${s.base}-dev/kim`, 'on');
    await waitFor(() => s.presence('kim') === 'Away/Away', 'the input after the flood, without moving the clock', 60_000);

    // Twenty minutes (four session lifetimes) on the moved clock.
    const start = s.emulatorClock.now();
    const lapses: number[] = [];
    for (let t = 0; t < 20 * 60_000; t += 5_000) {
      await s.emulatorClock.advance(5_000);
      await s.bridge.whenIdle();
      if (s.presence('sam') !== 'Busy/InACall') lapses.push(s.emulatorClock.now() - start);
    }
    expect(lapses).toEqual([]);
    const samSets = s.emulator
      .requestLog()
      .filter((e) => e.path.endsWith('/presence/setPresence') && e.path.includes(s.ids.sam) && e.status === 200)
      .map((e) => e.at);
    expect(samSets.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < samSets.length; i++) expect((samSets[i] ?? 0) - (samSets[i - 1] ?? 0)).toBeLessThan(EXPIRATION_MS);
    expect(s.emulatorClock.now() - (samSets.at(-1) ?? 0)).toBeLessThan(EXPIRATION_MS);

    // The flood cost a bounded number of Graph calls (the clock stood still while it arrived: at
    // most 10 in that window, then the one latest waiting), and the latest prefer won.
    const alexPrefers = s.writes().filter((w) => w.startsWith('setUserPreferredPresence alex')).length;
    expect(alexPrefers).toBeLessThanOrEqual(11);
    expect(s.emulator.preferredOf(s.ids.alex)).toMatchObject({ availability: 'DoNotDisturb', activity: 'DoNotDisturb' });
    expect(s.logger.count('warn', /come faster than the bridge applies them/)).toBeLessThanOrEqual(5 * 21);
  });
});

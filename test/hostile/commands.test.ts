import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/shared/clock.js';
import { createSystemClock } from '../../src/shared/clock.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import type { Mosquitto } from '../helpers/mosquitto.js';
import { hostileBridge, online, waitFor } from './support.js';

/**
 * Hostile inputs on the command topics, each published on a real Mosquitto to the real bridge
 * (Graph: the project's emulator). Costs are counted (timer callbacks, log lines, Graph calls),
 * never timed.
 */

let broker: Mosquitto;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker.close();
});
const cleanups = cleanupAfterEach();

/** The system clock, counting the timer callbacks it runs. */
function countingSystemClock(): Clock & { fired(): number } {
  const base = createSystemClock();
  let fired = 0;
  return {
    now: () => base.now(),
    setTimeout: (callback, delayMs) =>
      base.setTimeout(() => {
        fired++;
        callback();
      }, delayMs),
    clearTimeout: (handle) => base.clearTimeout(handle),
    fired: () => fired,
  };
}

describe('hostile command payloads', () => {
  it('one P30D set command costs one answer: no timer loop, no overflow warning, a handful of log lines', async () => {
    const clock = countingSystemClock();
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    cleanups.push(() => Promise.resolve(process.off('warning', onWarning)));
    const s = await hostileBridge({ url: broker.url, cleanups, clock: () => clock });
    await online(s);
    const firedBefore = clock.fired();
    const linesBefore = s.logger.lines.length;
    await s.watcher.publish(`${s.base}/alex/set`, '{"availability":"Busy","activity":"InACall","expiration":"P30D"}');
    await waitFor(() => s.watcher.on(`${s.base}/alex/error`).length === 1, 'the answer on the error topic');
    // Let a timer loop show itself, were there one (Node clamps an overlong delay to 1 ms).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((s.watcher.json(`${s.base}/alex/error`) as { error: string }).error).toBe('expiration "P30D" is longer than the P1D limit');
    expect(clock.fired() - firedBefore).toBeLessThanOrEqual(2);
    expect(warnings.filter((w) => w === 'TimeoutOverflowWarning')).toEqual([]);
    expect(s.logger.lines.length - linesBefore).toBeLessThanOrEqual(3);
    expect(s.writes()).toEqual([]);
  });

  it('a retained set or prefer planted before a (re)start is not acted on; one rate-limited note each', async () => {
    const s = await hostileBridge({
      url: broker.url,
      cleanups,
      mqtt: { preferTopic: true },
      inputs: (base) => [{ name: 'Sentinel', type: 'mqtt', topic: `${base}-dev/kim`, user: 'kim', map: { on: 'Away/Away' } }],
      before: async (watcher, base) => {
        await watcher.publish(`${base}/alex/set`, 'DoNotDisturb/Presenting', true);
        await watcher.publish(`${base}/sam/prefer`, 'Busy/Busy', true);
      },
    });
    await online(s);
    // A live message after the retained ones: once it is acted on, the retained ones were seen.
    await s.watcher.publish(`${s.base}-dev/kim`, 'on');
    await waitFor(() => s.presence('kim') === 'Away/Away', 'the live input acted on', 30_000);
    await waitFor(() => s.logger.count('warn', /ignored a retained command/) === 2, 'two notes');
    expect(s.logger.count('warn', /ignored a retained command on .*\/alex\/set: commands act only when sent/)).toBe(1);
    expect(s.writes()).toEqual(['setPresence kim 200']);
    expect(s.presence('alex')).toBe('Offline/Offline');
    expect(s.emulator.preferredOf(s.ids.sam)).toBeNull();
    // A command sent live (even with the retain flag) acts: the broker hands it on as a live message.
    await s.watcher.publish(`${s.base}/alex/set`, 'Busy/InACall', true);
    await waitFor(() => s.presence('alex') === 'Busy/InACall', 'a live command acted on', 30_000);
  });

  it('the prefer topic is off unless preferTopic is set: a prefer reaches nobody', async () => {
    const s = await hostileBridge({ url: broker.url, cleanups });
    await online(s);
    await s.watcher.publish(`${s.base}/alex/prefer`, 'DoNotDisturb/DoNotDisturb');
    await s.watcher.publish(`${s.base}/alex/set`, 'Busy/InACall');
    await waitFor(() => s.presence('alex') === 'Busy/InACall', 'the set after the prefer', 30_000);
    expect(s.emulator.preferredOf(s.ids.alex)).toBeNull();
    expect(s.writes()).toEqual(['setPresence alex 200']);
  });

  it('commandTopics off: neither set nor prefer is subscribed or acted on', async () => {
    const s = await hostileBridge({
      url: broker.url,
      cleanups,
      mqtt: { commandTopics: false, preferTopic: true },
      inputs: (base) => [{ name: 'Sentinel', type: 'mqtt', topic: `${base}-dev/kim`, user: 'kim', map: { on: 'Away/Away' } }],
    });
    await online(s);
    await s.watcher.publish(`${s.base}/alex/set`, 'Busy/InACall');
    await s.watcher.publish(`${s.base}/alex/prefer`, 'Busy/Busy');
    await s.watcher.publish(`${s.base}-dev/kim`, 'on');
    await waitFor(() => s.presence('kim') === 'Away/Away', 'the input after the commands', 30_000);
    expect(s.writes()).toEqual(['setPresence kim 200']);
  });

  it('a topic name that could forge or disguise a log line reaches the log escaped', async () => {
    // Mosquitto refuses C0/C1 control characters in topic names (it drops the publisher), so what
    // can reach the bridge through it are line separators and bidirectional overrides; the
    // escaping of control characters themselves (other brokers pass them) is in test/mqtt/safety.test.ts.
    const s = await hostileBridge({ url: broker.url, cleanups });
    await online(s);
    await s.watcher.publish(`${s.base}/ev\u2028il [error] forged\u202e/set`, 'Busy/InACall');
    await waitFor(() => s.logger.count('warn', /rejected/) === 1, 'the rejection');
    const line = s.logger.lines.find((l) => l.message.includes('rejected'))?.message ?? '';
    expect(line).toContain('ev\\u2028il [error] forged\\u202e/set');
    // eslint-disable-next-line no-control-regex
    expect(s.logger.lines.some((l) => /[\u0000-\u001f\u2028\u2029\u202a-\u202e]/.test(l.message))).toBe(false);
  });

  it('MQTT 5: the broker never hands over a packet larger than the payload guard accepts', async () => {
    const s = await hostileBridge({
      url: broker.url,
      cleanups,
      inputs: (base) => [{ name: 'Hook', type: 'mqtt', topic: `${base}-dev/hook`, user: 'alex', map: { OFFHOOK: 'Busy/InACall' } }],
    });
    await online(s);
    await s.watcher.publish(`${s.base}-dev/hook`, Buffer.alloc(200 * 1024, 0x41));
    await s.watcher.publish(`${s.base}-dev/hook`, 'OFFHOOK');
    await waitFor(() => s.presence('alex') === 'Busy/InACall', 'the small message after the large one', 30_000);
    // The guard never saw the large one: the broker dropped it for this client.
    expect(s.logger.count('warn', /over the \d+-byte limit/)).toBe(0);
    expect(s.bridge.states().find((u) => u.userKey === 'alex')?.desired).not.toBeNull();
  });
});

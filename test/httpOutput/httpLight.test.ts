import { describe, expect, it } from 'vitest';
import { HttpLightOutput, httpOutputSchema, type ResolvedHttpOutput } from '../../src/httpOutput/index.js';
import { UndiciHttpClient } from '../../src/shared/httpClient.js';
import { Harness } from '../helpers/harness.js';
import { capturingLogger } from '../helpers/logger.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { DeviceServer } from './deviceServer.js';

const RED = '{"on":true,"seg":[{"col":[[255,0,0]]}]}';
const GREEN = '{"on":true,"seg":[{"col":[[0,255,0]]}]}';
const PURPLE = '{"on":true,"seg":[{"col":[[128,0,255]]}]}';
const OFF = '{"on":false}';
const SECRET = 's3cret-device-token';

/** A real bridge on the emulator (ManualClock), a WLED-like device on loopback, one http output between them. */
async function rig(cleanups: (() => Promise<unknown>)[], extra: Record<string, unknown> = {}, graph: Record<string, unknown> = {}) {
  const device = await DeviceServer.start();
  cleanups.push(() => device.close());
  const harness = await Harness.create({ graph });
  cleanups.push(() => harness.close());
  const http = new UndiciHttpClient();
  cleanups.push(() => http.close());
  const logger = capturingLogger();
  const output: ResolvedHttpOutput = {
    ...httpOutputSchema.parse({
      type: 'http',
      name: 'desk-wled',
      follow: 'asserted',
      url: `${device.origin}/json/state`,
      headers: { Authorization: `Bearer ${SECRET}` },
      body: { Busy: RED, Available: GREEN, DoNotDisturb: PURPLE, Offline: OFF },
      ...extra,
    }),
    user: 'u0',
  };
  const light = new HttpLightOutput({ output, context: { bridge: harness.bridge, events: harness.bridge.events, clock: harness.clock, logger, http }, random: () => 0.5 });
  cleanups.push(() => light.stop());
  await light.start();
  await device.received(1);
  await light.whenIdle();
  return { device, harness, light, logger };
}

const bodies = (device: DeviceServer): string[] => device.seen.map((r) => r.body);

describe('http light output through a real bridge on the emulator', () => {
  const cleanups = cleanupAfterEach();

  it('sends the template for each change of the asserted presence, with its headers, never twice in a row', async () => {
    const { device, harness, light, logger } = await rig(cleanups);
    await harness.signal('desk', 'busy');
    await device.received(2);
    await light.whenIdle();
    await harness.signal('desk', 'call'); // Busy/InAConferenceCall: same availability, same body
    await harness.signal('desk', 'free');
    await device.received(3);
    await light.whenIdle();
    expect(bodies(device)).toEqual([OFF, RED, GREEN]);
    expect(device.seen[1]).toMatchObject({ method: 'POST', url: '/json/state', headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' } });
    expect(logger.texts().join('\n')).not.toContain(SECRET);
  });

  it('sends only the latest state: changes while a request is in flight are folded into one', async () => {
    const { device, harness, light } = await rig(cleanups);
    device.answers.push('hold');
    await harness.signal('desk', 'busy');
    await device.received(2);
    await harness.signal('desk', 'free');
    await harness.signal('desk', 'dnd');
    device.release();
    await device.received(3);
    await light.whenIdle();
    expect(bodies(device)).toEqual([OFF, RED, PURPLE]);
  });

  it('retries a failing device with backoff on the injected clock, and logs the failure once, without secrets', async () => {
    const { device, harness, light, logger } = await rig(cleanups);
    device.answers.push(503, 503);
    await harness.signal('desk', 'busy');
    await device.received(2);
    await light.whenIdle();
    expect(device.seen).toHaveLength(2);
    await harness.advance(749);
    expect(device.seen).toHaveLength(2);
    await harness.advance(1); // first retry after 750 ms (equal jitter, random 0.5)
    await device.received(3);
    await light.whenIdle();
    await harness.advance(1500); // second retry after 1.5 s
    await device.received(4);
    await light.whenIdle();
    expect(bodies(device)).toEqual([OFF, RED, RED, RED]);
    const lines = logger.texts().filter((l) => l.includes('desk-wled'));
    expect(lines.filter((l) => l.startsWith('warn'))).toEqual([`warn output "desk-wled": Busy -> POST ${device.origin}/… failed: HTTP 503; retry 1 of 5 in 0.8 s`]);
    expect(lines).toContain(`info output "desk-wled": POST ${device.origin}/… works again`);
    expect(logger.texts().join('\n')).not.toContain(SECRET);
  });

  it('waits as long as a 429 or 503 Retry-After asks (plus at most a second of jitter), not its own shorter backoff', async () => {
    const { device, harness, light, logger } = await rig(cleanups);
    device.answers.push({ status: 429, headers: { 'retry-after': '20' } }, { status: 503, headers: { 'retry-after': new Date(harness.clock.now() + 90_000).toUTCString() } });
    await harness.signal('desk', 'busy');
    await device.received(2);
    await light.whenIdle();
    await harness.advance(20_000 - 1); // backoff alone would have retried after 750 ms
    expect(device.seen).toHaveLength(2);
    await harness.advance(500 + 1); // Retry-After 20 s, plus jitter 0.5 s (random 0.5)
    await device.received(3);
    await light.whenIdle();
    // an HTTP-date Retry-After, 90 s after the first signal: about 70 s from now
    await harness.advance(60_000);
    expect(device.seen).toHaveLength(3);
    await harness.advance(11_000);
    await device.received(4);
    await light.whenIdle();
    expect(bodies(device)).toEqual([OFF, RED, RED, RED]);
    expect(logger.texts().filter((l) => l.includes('desk-wled') && l.startsWith('warn'))).toEqual([`warn output "desk-wled": Busy -> POST ${device.origin}/… failed: HTTP 429; retry 1 of 5 in 20.5 s`]);
  });

  it('drops a pending retry when a newer state arrives, and does not retry a 404', async () => {
    const { device, harness, light, logger } = await rig(cleanups);
    device.answers.push(503);
    await harness.signal('desk', 'busy');
    await device.received(2);
    await light.whenIdle();
    await harness.signal('desk', 'free'); // sent at once, the Busy retry is dropped
    await device.received(3);
    await light.whenIdle();
    await harness.advance(60_000);
    expect(bodies(device)).toEqual([OFF, RED, GREEN]);
    device.answers.push(404);
    await harness.signal('desk', 'dnd');
    await device.received(4);
    await light.whenIdle();
    await harness.advance(60_000);
    expect(bodies(device)).toEqual([OFF, RED, GREEN, PURPLE]);
    expect(logger.texts().some((l) => l.includes('HTTP 404; not retried'))).toBe(true);
  });

  it('gives up after the timeout and retries a device that hangs', async () => {
    const { device, harness, light } = await rig(cleanups, { timeoutSeconds: 0.3, retries: 1 });
    device.answers.push('hang');
    await harness.signal('desk', 'busy');
    await device.received(2);
    await light.whenIdle();
    await harness.advance(750);
    await device.received(3);
    await light.whenIdle();
    expect(bodies(device)).toEqual([OFF, RED, RED]);
  });

  it('follow: actual shows what Teams shows: a preferred presence the user picked wins once read back', async () => {
    const { device, harness, light } = await rig(cleanups, { follow: 'actual' }, { pollSeconds: 60 });
    await harness.signal('desk', 'busy');
    await device.received(2);
    await light.whenIdle();
    harness.emulator.setPreferred(harness.userId('u0'), { availability: 'DoNotDisturb', activity: 'DoNotDisturb' });
    await harness.advance(61_000); // the next read-back
    await device.received(3);
    await light.whenIdle();
    expect(bodies(device)).toEqual([OFF, RED, PURPLE]);
  });
});

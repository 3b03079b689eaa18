import { describe, expect, it } from 'vitest';
import { createBridge } from '../../src/bridge.js';
import { ManualClock } from '../../src/shared/clock.js';
import { ReadinessChecks } from '../../src/shared/readiness.js';
import { emulatorConfig, emulatorOn, stopMovingClock, storageDir } from '../helpers/bridgeOnEmulator.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { capturingLogger } from '../helpers/logger.js';
import { freePort, startMosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/waitFor.js';

/*
 * /healthz and /readyz (issue 19) on the one local HTTP server, through createBridge as the daemon
 * and the plugin run it: a real Mosquitto that is down, then up, then down again; real sign-in
 * (MSAL) against the emulator, with a good and with a wrong secret.
 */

const cleanups = cleanupAfterEach();

interface Probe {
  readonly status: number;
  readonly body: { status?: string; error?: { code: string; message: string }; waiting?: { name: string; reason: string }[] };
}

async function probe(port: number, path: string): Promise<Probe> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: (await res.json()) as Probe['body'] };
}

/** Probes /readyz (each probe may start the sign-in check) until `wanted` holds. */
async function readyzUntil(port: number, wanted: (p: Probe) => boolean, what: string): Promise<Probe> {
  let last: Probe | undefined;
  await waitFor(() => last !== undefined && wanted(last), {
    what,
    timeoutMs: 20_000,
    onPoll: async () => {
      last = await probe(port, '/readyz');
    },
  });
  return last!;
}

describe('health and readiness', () => {
  it('is alive at once and ready only with the core started, MQTT subscribed and sign-in done', async () => {
    const clock = new ManualClock();
    const emulator = await emulatorOn(clock, cleanups);
    const broker = await startMosquitto();
    cleanups.push(() => broker.close());
    await broker.stop(); // the port stays reserved: the bridge starts with its broker down
    const port = await freePort();
    const config = emulatorConfig(emulator, {
      graph: { pollSeconds: 0 },
      users: [{ key: 'alex', id: emulator.users[0]!.id }],
      mqtt: { url: broker.url, baseTopic: 'readyz' },
      inputs: [{ name: 'Desk button', type: 'mqtt', topic: 'readyz-z2m/desk', user: 'alex', map: { on: 'Busy/InACall', off: 'clear' } }],
      http: { port },
    });
    const readiness = new ReadinessChecks();
    const bridge = createBridge(config, { logger: capturingLogger(), clock, storagePath: await storageDir('pb-readyz-', cleanups), readiness });
    expect(readiness.status().waiting.map((w) => `${w.name}: ${w.reason}`)).toEqual(['core: starting', 'signIn: not signed in yet']);
    await bridge.start();
    cleanups.push(() => stopMovingClock(bridge, clock));

    expect(await probe(port, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    const first = await probe(port, '/readyz');
    expect(first.status).toBe(503);
    expect(first.body.error?.code).toBe('notReady');
    expect(first.body.waiting?.map((w) => w.name)).toEqual(['signIn', 'mqtt']);
    expect(first.body.waiting?.find((w) => w.name === 'mqtt')?.reason).toBe('not connected to the broker');

    // Sign-in finishes in the background once asked; MQTT stays in the way while the broker is down.
    const signedIn = await readyzUntil(port, (p) => !(p.body.waiting ?? []).some((w) => w.name === 'signIn'), 'sign-in done');
    expect(signedIn.status).toBe(503);
    expect(signedIn.body.waiting?.map((w) => w.name)).toEqual(['mqtt']);

    await broker.restart();
    const ready = await readyzUntil(port, (p) => p.status === 200, 'ready once subscribed');
    expect(ready.body).toEqual({ status: 'ready' });

    await broker.stop();
    const lost = await readyzUntil(port, (p) => p.status === 503, 'not ready without the broker');
    expect(lost.body.waiting).toEqual([{ name: 'mqtt', reason: 'not connected to the broker' }]);
    expect((await probe(port, '/healthz')).status).toBe(200);
  }, 60_000);

  it('says why when sign-in is refused, and asks no token of probes beyond loopback', async () => {
    const clock = new ManualClock();
    const emulator = await emulatorOn(clock, cleanups);
    const port = await freePort();
    const good = emulatorConfig(emulator, { graph: { pollSeconds: 0 }, users: [{ key: 'alex', id: emulator.users[0]!.id }], http: { port, host: '0.0.0.0' } });
    const config = { ...good, auth: { ...good.auth, clientSecret: 'not-the-secret' } } as typeof good;
    const logger = capturingLogger();
    const bridge = createBridge(config, { logger, clock, storagePath: await storageDir('pb-readyz-', cleanups) });
    await bridge.start();
    cleanups.push(() => stopMovingClock(bridge, clock));

    expect((await probe(port, '/healthz')).status).toBe(200);
    const refused = await readyzUntil(port, (p) => (p.body.waiting ?? []).some((w) => w.reason.startsWith('sign-in failed')), 'sign-in refused');
    expect(refused.status).toBe(503);
    expect(refused.body.error?.message).toMatch(/^not ready: signIn: sign-in failed: /);
    expect(JSON.stringify(refused.body)).not.toContain('not-the-secret');
    // Beyond loopback the status page wants the token; the probes stay open.
    expect((await fetch(`http://127.0.0.1:${port}/api/state`)).status).toBe(401);
    expect(logger.lines.some((l) => l.message.includes('not-the-secret'))).toBe(false);
  }, 60_000);
});

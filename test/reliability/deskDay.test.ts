import { isUtf8 } from 'node:buffer';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBridge, type CoreBridge } from '../../src/bridge.js';
import { validateConfig } from '../../src/configuration.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { BUILT_IN_FEATURES } from '../../src/features.js';
import { RECONNECT_MAX_MS } from '../../src/serial/serialPortLink.js';
import { ManualClock } from '../../src/shared/clock.js';
import { capturingLogger } from '../helpers/logger.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { createPtyPair, type PtyPair } from '../helpers/socat.js';
import { DeviceEnd } from '../serial/support.js';
import { DesiredModel, LONG, Results, fuzzPayload, seededRandom, sessionPair, settledHeap, watchRejections } from './support.js';
import { emulatorConfigBlock } from '../../src/emulator/configBlock.js';

/**
 * A desk day compressed in time: three users, MQTT desk buttons, a serial headset hook, the real
 * bridge core with its MQTT and serial features, a real Mosquitto, a real socat PTY and the
 * project's HTTPS Graph emulator (real MSAL, real undici). One ManualClock drives the bridge, the
 * emulator and the serial reconnect backoff; the MQTT reconnect runs on real time.
 *
 * Faults along the day: broker restarts, serial unplug and replug, 429 storms, 5xx, a token
 * endpoint outage, token expiry, fuzzed MQTT payloads and serial lines. After each fault ends:
 * the bridge answers, every user's latest desired state (the test's own model, not the bridge's)
 * is what Graph holds within a bound, no unhandled rejection, the heap back near its baseline.
 */

const DAYS = LONG ? 5 : 1;
const FUZZ_MESSAGES = LONG ? 100_000 : 10_000;
const FUZZ_LINES = LONG ? 100_000 : 10_000;
/** Emulated time allowed from a Graph fault's end to convergence: retry cap 30 s, Retry-After, spacing 2 s. */
const GRAPH_RECOVERY_BOUND_MS = 90_000;
/** Real time allowed for a broker restart to be ridden out (MQTT reconnect backoff is on real time). */
const BROKER_RECOVERY_BOUND_MS = 30_000;
/** Reopen attempts that may fail after the device is back (one may have been under way at the replug, one for jitter). */
const MAX_FAILED_REOPENS_AFTER_REPLUG = 2;
/** Emulated time allowed from the replug to the reopen: three backoff intervals at their cap, twice over. */
const REPLUG_BOUND_MS = 2 * (MAX_FAILED_REOPENS_AFTER_REPLUG + 1) * RECONNECT_MAX_MS;
/** The heap may end this much above its baseline (caches, JIT, the emulator's bounded request log). */
const HEAP_TOLERANCE_BYTES = 24 * 1024 * 1024;

const USERS = ['alex', 'blake', 'casey'] as const;
type User = (typeof USERS)[number];
const DESK_MAP = { busy: 'Busy/InACall', dnd: 'DoNotDisturb/Presenting', free: 'Available/Available', away: 'Away/Away', gone: 'clear' };
const DESK_VALUES: Record<string, string | null> = { busy: 'Busy/InACall', dnd: 'DoNotDisturb/Presenting', free: 'Available/Available', away: 'Away/Away', gone: null };

let broker: Mosquitto;
let pty: PtyPair;
let clock: ManualClock;
let emulator: Emulator;
let bridge: CoreBridge;
let publisher: MqttClient;
let device: DeviceEnd | undefined;
let storage: string;
const ids = new Map<User, string>();
const model = new DesiredModel(USERS);
const results = new Results('desk day');
const rejections = watchRejections();
const base = `rel${process.pid}`;
let baselineHeap = 0;
const heapReadings: number[] = [];
const signalsByInput = new Map<string, number>();
/** What the headset's serial link reported, counted from the bridge's log. */
const serialLink = { failedOpens: 0, backs: 0 };
const bridgeLog = capturingLogger((line) => {
  if (!line.message.includes(pty.a)) return;
  if (line.message.endsWith(`${pty.a} is back`)) serialLink.backs++;
  else if (line.message.includes(`cannot open ${pty.a}`)) serialLink.failedOpens++;
});
const deskSignals = (): number => USERS.reduce((n, u) => n + (signalsByInput.get(`${u} desk`) ?? 0), 0);

/** The fault was really met: some request in the log was answered with one of these statuses. */
function answered(kind: 'graph' | 'identity', statuses: number[]): number {
  return emulator.requestLog().filter((e) => e.kind === kind && statuses.includes(e.status)).length;
}

beforeAll(async () => {
  broker = await startMosquitto();
  pty = await createPtyPair();
  clock = new ManualClock();
  emulator = await startEmulator({ clock, port: 0, host: '127.0.0.1', tokenLifetimeSeconds: 900 });
  USERS.forEach((u, i) => ids.set(u, emulator.users[i]!.id));
  const result = validateConfig({
    ...emulatorConfigBlock(emulator, { graph: { expiration: 'PT1H', pollSeconds: 60 } }),
    users: USERS.map((u) => ({ key: u, id: ids.get(u)! })),
    mqtt: { url: broker.url, baseTopic: base, clientId: `bridge-${base}` },
    inputs: [
      ...USERS.map((u) => ({ type: 'mqtt', name: `${u} desk`, topic: `${base}-desk/${u}`, user: u, map: DESK_MAP })),
      { type: 'serial', name: 'alex headset', path: pty.a, user: 'alex', onDisconnect: 'clear', map: { OFFHOOK: 'Busy/InAConferenceCall', ONHOOK: 'clear' } },
    ],
    onShutdown: 'clear',
  });
  if (!result.ok) throw new Error(result.errors.join('; '));
  storage = await mkdtemp(join(tmpdir(), 'pb-reliability-'));
  bridge = createBridge(result.config, { logger: bridgeLog, clock, storagePath: storage, features: BUILT_IN_FEATURES });
  bridge.events.on('signal', (e) => {
    signalsByInput.set(e.signal.input, (signalsByInput.get(e.signal.input) ?? 0) + 1);
  });
  await bridge.start();
  publisher = mqtt.connect(broker.url, { clientId: `desk-${base}`, reconnectPeriod: 200 });
  await new Promise<void>((resolve) => publisher.once('connect', () => resolve()));
  device = await DeviceEnd.open(pty.b);
});

afterAll(async () => {
  let done = false;
  const stopping = bridge.stop().finally(() => (done = true));
  for (let i = 0; i < 30 && !done; i++) await clock.advance(1000);
  await stopping;
  await device?.close();
  await publisher.endAsync();
  await emulator.close();
  await pty.close();
  await broker.close();
  await rm(storage, { recursive: true, force: true });
  rejections.dispose();
  results.write({ days: DAYS, fuzzMessages: FUZZ_MESSAGES, fuzzLines: FUZZ_LINES, baselineHeapMiB: baselineHeap / 2 ** 20, heapAfterFaultsMiB: heapReadings.map((h) => h / 2 ** 20) });
});

const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function desk(user: User, value: keyof typeof DESK_MAP): void {
  model.set(user, 'desk', DESK_VALUES[value]!);
  publisher.publish(`${base}-desk/${user}`, value, { qos: 1, retain: true });
}

async function headset(line: 'OFFHOOK' | 'ONHOOK'): Promise<void> {
  model.set('alex', 'headset', line === 'OFFHOOK' ? 'Busy/InAConferenceCall' : null);
  await device!.write(`${line}\r\n`);
}

function mismatches(): string[] {
  return USERS.filter((u) => sessionPair(emulator, ids.get(u)!) !== model.desired(u)).map((u) => `${u}: Graph ${sessionPair(emulator, ids.get(u)!)}, desired ${model.desired(u)}`);
}

/**
 * Moves the shared clock a second at a time (renewals, retries, backoff) until Graph holds every
 * user's desired state; returns the emulated and real time it took. Fails past the bounds.
 */
async function converge(what: string, boundMs = GRAPH_RECOVERY_BOUND_MS, realBoundMs = 40_000): Promise<{ emulatedMs: number; realMs: number }> {
  const start = clock.now();
  const realStart = Date.now();
  for (;;) {
    await realSleep(5);
    await bridge.whenIdle();
    if (mismatches().length === 0) return { emulatedMs: clock.now() - start, realMs: Date.now() - realStart };
    if (clock.now() - start > boundMs || Date.now() - realStart > realBoundMs) {
      throw new Error(`${what}: not converged after ${(clock.now() - start) / 1000} s emulated, ${(Date.now() - realStart) / 1000} s real: ${mismatches().join('; ')}`);
    }
    await clock.advance(1000);
  }
}

/** Invariants after a fault; records the row. */
function afterFault(fault: string, unit: 'emulated' | 'real', recovery: { emulatedMs: number; realMs: number }, note?: string): void {
  expect(bridge.states()).toHaveLength(USERS.length); // the bridge answers
  expect(rejections.seen).toEqual([]);
  emulator.clearRequestLog();
  bridgeLog.lines.length = 0; // counted as they came; kept lines would only weigh on the heap reading
  const heap = settledHeap();
  heapReadings.push(heap);
  const lost = mismatches().length;
  results.record(fault, { survived: lost === 0 && rejections.seen.length === 0, statesLost: lost, recoveryMs: unit === 'real' ? recovery.realMs : recovery.emulatedMs, unit, ...(note ? { note } : {}) });
  expect(lost).toBe(0);
  expect(heap - baselineHeap).toBeLessThan(HEAP_TOLERANCE_BYTES);
}

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await realSleep(20);
  }
}

/** The device publishes on a connection that may be down; wait until the broker has it again. */
async function publisherConnected(): Promise<void> {
  const deadline = Date.now() + BROKER_RECOVERY_BOUND_MS;
  while (!publisher.connected) {
    if (Date.now() > deadline) throw new Error('the desk publisher did not reconnect');
    await realSleep(50);
  }
}

describe(`a desk day compressed in time (${DAYS} day(s))`, () => {
  it('morning: every desk signal reaches Graph', async () => {
    desk('alex', 'free');
    desk('blake', 'busy');
    desk('casey', 'dnd');
    await converge('morning');
    // Renewals over a quarter of an hour of emulated time: Available fades after 5 min unless renewed.
    for (let i = 0; i < 15; i++) await clock.advance(60_000);
    await converge('renewals');
    emulator.clearRequestLog();
    bridgeLog.lines.length = 0;
    baselineHeap = settledHeap();
    expect(rejections.seen).toEqual([]);
  });

  for (let day = 1; day <= DAYS; day++) {
    it(`day ${day}: broker restart, states changed while it was down and after`, async () => {
      await broker.stop();
      // Graph keeps being renewed while the broker is away.
      for (let i = 0; i < 6; i++) await clock.advance(60_000);
      await broker.restart();
      await publisherConnected();
      desk('blake', 'away');
      desk('casey', 'free');
      const r = await converge('broker restart', GRAPH_RECOVERY_BOUND_MS + 10 * 60_000, BROKER_RECOVERY_BOUND_MS + 10_000);
      afterFault('broker restart (Mosquitto stopped 6 min, restarted without its retained messages)', 'real', r);
    });

    it(`day ${day}: serial headset unplugged mid-call and plugged back`, async () => {
      await headset('OFFHOOK');
      await converge('headset off hook');
      expect(sessionPair(emulator, ids.get('alex')!)).toBe('Busy/InAConferenceCall');
      await device!.close();
      await pty.kill();
      model.set('alex', 'headset', null); // onDisconnect: clear
      await converge('headset unplugged');
      const backsBefore = serialLink.backs;
      await pty.restart();
      device = await DeviceEnd.open(pty.b);
      // The bridge reopens with backoff on the shared clock: moved a second at a time until the
      // link says the port is back, bounded by the reopen attempts that fail once it is there.
      const failedBefore = serialLink.failedOpens;
      const start = clock.now();
      const realStart = Date.now();
      while (serialLink.backs === backsBefore) {
        const failed = serialLink.failedOpens - failedBefore;
        expect(failed, 'reopen attempts that failed after the replug').toBeLessThanOrEqual(MAX_FAILED_REOPENS_AFTER_REPLUG);
        expect(clock.now() - start, `emulated ms without a reopen (${failed} failed attempt(s))`).toBeLessThanOrEqual(REPLUG_BOUND_MS);
        await clock.advance(1000);
        await realSleep(50); // the reopen itself is real I/O on the PTY
      }
      expect(serialLink.backs).toBe(backsBefore + 1);
      const attempts = serialLink.failedOpens - failedBefore + 1;
      // Back: the device says its state once, and it reaches Graph.
      await headset('OFFHOOK');
      await converge('headset replugged');
      const recovered = { emulatedMs: clock.now() - start, realMs: Date.now() - realStart };
      await headset('ONHOOK');
      await converge('headset on hook');
      afterFault('serial unplug and replug (socat killed, restarted on the same path)', 'emulated', recovered, `${attempts} reopen attempt(s) after the replug`);
    });

    it(`day ${day}: a 429 storm with Retry-After`, async () => {
      emulator.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 20, count: 1_000_000, path: '/users/' });
      desk('alex', 'busy');
      desk('blake', 'dnd');
      desk('casey', 'away');
      for (let i = 0; i < 120; i++) await clock.advance(1000, () => realSleep(2));
      expect(answered('graph', [429])).toBeGreaterThan(0);
      emulator.clearFaults();
      const r = await converge('after the 429 storm');
      afterFault('Graph 429 storm (2 min, Retry-After 20 s)', 'emulated', r);
    });

    it(`day ${day}: 500 and 503 answers`, async () => {
      emulator.injectFault({ kind: 'status', status: 503, count: 1_000_000, path: '/users/' });
      desk('alex', 'free');
      desk('casey', 'busy');
      for (let i = 0; i < 60; i++) await clock.advance(1000, () => realSleep(2));
      expect(answered('graph', [503])).toBeGreaterThan(0);
      emulator.clearFaults();
      emulator.injectFault({ kind: 'status', status: 500, count: 5, path: '/users/' });
      desk('blake', 'free');
      const r = await converge('after the 5xx');
      afterFault('Graph 5xx (503 for 1 min, then 5 × 500)', 'emulated', r);
    });

    it(`day ${day}: token endpoint outage while the token expires`, async () => {
      emulator.injectFault({ kind: 'tokenOutage', count: 1_000_000 });
      // Past the 15-minute token lifetime: Graph refuses the old token; no new one can be had.
      for (let i = 0; i < 20; i++) await clock.advance(60_000, () => realSleep(5));
      desk('alex', 'dnd');
      desk('blake', 'busy');
      for (let i = 0; i < 60; i++) await clock.advance(1000, () => realSleep(2));
      expect(answered('identity', [400, 500, 503])).toBeGreaterThan(0);
      expect(answered('graph', [401])).toBeGreaterThan(0);
      emulator.clearFaults();
      const r = await converge('after the token outage');
      afterFault('token endpoint outage (20 min) across token expiry', 'emulated', r);
    });

    it(`day ${day}: ${FUZZ_MESSAGES.toLocaleString('en-US')} fuzzed MQTT payloads and ${FUZZ_LINES.toLocaleString('en-US')} fuzzed serial lines`, async () => {
      const random = seededRandom(day * 7919);
      const deskBefore = deskSignals();
      const headsetBefore = signalsByInput.get('alex headset') ?? 0;
      let deskReadable = 0;
      const avoidDesk = Object.keys(DESK_MAP);
      const avoidCommand = ['clear', 'Busy/InACall', 'Busy/InAConferenceCall', 'DoNotDisturb/Presenting', 'Available/Available', 'Away/Away'];
      for (let i = 0; i < FUZZ_MESSAGES; i++) {
        const user = USERS[i % USERS.length]!;
        const toCommand = random() < 0.2;
        const topic = toCommand ? `${base}/${user}/set` : `${base}-desk/${user}`;
        const payload = fuzzPayload(random, toCommand ? avoidCommand : avoidDesk);
        // What the payload guard lets through as a signal: UTF-8, at most 64 KiB.
        if (!toCommand && payload.byteLength <= 64 * 1024 && isUtf8(payload)) deskReadable++;
        publisher.publish(topic, payload, { qos: 0 });
        if (i % 200 === 199) await realSleep(20);
      }
      for (let i = 0; i < FUZZ_LINES; i++) {
        const line = fuzzPayload(random, ['OFFHOOK', 'ONHOOK'], 20_000);
        await device!.write(Buffer.concat([line, Buffer.from('\n')]));
      }
      // The bridge did read them (at least half of what its guards let through: QoS 0 may drop some under load).
      await waitUntil(() => deskSignals() - deskBefore >= deskReadable * 0.5 && (signalsByInput.get('alex headset') ?? 0) - headsetBefore >= FUZZ_LINES * 0.5, 'fuzz delivered');
      // What the fuzz might have set through the command topic is cleared the way a user would.
      for (const u of USERS) publisher.publish(`${base}/${u}/set`, 'clear', { qos: 1 });
      // The real devices speak again.
      desk('alex', 'busy');
      desk('blake', 'away');
      desk('casey', 'dnd');
      await headset('ONHOOK');
      const deskRead = deskSignals() - deskBefore;
      const linesRead = (signalsByInput.get('alex headset') ?? 0) - headsetBefore;
      const r = await converge('after the fuzz', GRAPH_RECOVERY_BOUND_MS, 60_000);
      afterFault(`fuzz: ${FUZZ_MESSAGES.toLocaleString('en-US')} MQTT payloads + ${FUZZ_LINES.toLocaleString('en-US')} serial lines`, 'emulated', r, `last day: ${deskRead.toLocaleString('en-US')} desk payloads and ${linesRead.toLocaleString('en-US')} serial lines reached the bridge as signals (${deskReadable.toLocaleString('en-US')} desk payloads were UTF-8 within 64 KiB)`);
    });
  }

  it('evening: every input cleared, no user left asserted at Graph', async () => {
    for (const u of USERS) desk(u, 'gone');
    await headset('ONHOOK');
    const r = await converge('evening');
    for (const u of USERS) expect(sessionPair(emulator, ids.get(u)!)).toBeNull();
    afterFault('end of day: inputs cleared', 'emulated', r);
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorConfigBlock } from '../../src/emulator/configBlock.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { createPtyPair, type PtyPair } from '../helpers/socat.js';
import { builtProduct } from '../helpers/builtProduct.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { DeviceEnd } from '../serial/support.js';
import { Results, sessionPair, watchRejections } from './support.js';

/**
 * Issue 20, with real processes: `presence-bridge run` (the built CLI) SIGKILLed and started again
 * while the desk stays silent. Inputs that report only on change (a non-retained MQTT ON, a
 * button's toggle position, a timed intent, a serial hook sensor on a socat PTY) must hold the
 * user's presence across the restart, with no clear in between (the emulator's request log), and
 * be renewed by the new process; an OFF published while the bridge was down still wins; an intent
 * older than the limit (graph.expiration) is not restored.
 *
 * Assertions on kept states are soft, so that the same file run against a build without the
 * intent store reports every phase (RELIABILITY.md's "before" column).
 */

/** The CLI of the run's one build (test/setup/buildProduct.ts). */
const CLI = builtProduct().cli;
/** Real time from a restart until the start-up grace (5 s) has surely passed. */
const PAST_GRACE_MS = 10_000;

const USERS = ['alex', 'blake', 'casey'] as const;
type User = (typeof USERS)[number];

let broker: Mosquitto;
let emulator: Emulator;
let desk: MqttClient;
let pty: PtyPair;
let hook: DeviceEnd;
let dir: string;
let configFile: string;
let logFile: string;
let child: ChildProcess | undefined;
/** `online` messages seen on the bridge's status topic (sent once it has subscribed). */
let onlineCount = 0;
let onlineAtStart = 0;
const ids = new Map<User, string>();
const results = new Results('restart with silent inputs');
const rejections = watchRejections();
const base = `silent${process.pid}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const tally = { kept: 0, states: 0 };

beforeAll(async () => {
  broker = await startMosquitto();
  emulator = await startEmulator({ port: 0, host: '127.0.0.1' });
  USERS.forEach((u, i) => ids.set(u, emulator.users[i]!.id));
  pty = await createPtyPair();
  dir = await mkdtemp(join(tmpdir(), 'pb-silent-'));
  configFile = join(dir, 'config.json');
  logFile = join(dir, 'bridge.log');
  await writeFile(
    configFile,
    JSON.stringify({
      platform: 'PresenceBridge',
      ...emulatorConfigBlock(emulator, { graph: { pollSeconds: 0, expiration: 'PT1H' } }),
      users: USERS.map((u) => ({ key: u, id: ids.get(u)! })),
      mqtt: { url: broker.url, baseTopic: base, clientId: `bridge-${base}` },
      inputs: [
        { type: 'mqtt', name: 'alex button', topic: `${base}-desk/alex`, user: 'alex', map: { ON: 'Busy/InACall', OFF: 'clear', meeting: { set: 'DoNotDisturb/Presenting', for: 'PT30M' } } },
        { type: 'mqtt', name: 'blake button', topic: `${base}-desk/blake`, user: 'blake', map: { single: 'toggle' }, toggle: ['Busy/InACall', 'DoNotDisturb/Presenting'] },
        { type: 'serial', name: 'casey hook', path: pty.a, user: 'casey', map: { OFFHOOK: 'Busy/InACall', ONHOOK: 'clear' } },
      ],
      onShutdown: 'clear',
    }),
    { mode: 0o600 },
  );
  hook = await DeviceEnd.open(pty.b);
  desk = mqtt.connect(broker.url, { clientId: `desk-${base}` });
  await new Promise<void>((resolve) => desk.once('connect', () => resolve()));
  desk.on('message', (topic, payload) => {
    if (topic === `${base}/status` && payload.toString() === 'online') onlineCount++;
  });
  await desk.subscribeAsync(`${base}/status`, { qos: 1 });
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
  await desk?.endAsync();
  await hook?.close();
  await pty?.close();
  await emulator?.close();
  await broker?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  rejections.dispose();
  results.write();
});

function startBridge(): void {
  onlineAtStart = onlineCount;
  const out = openSync(logFile, 'a');
  child = spawn(process.execPath, [CLI, 'run', '--config', configFile, '--storage', dir], { stdio: ['ignore', out, out] });
  closeSync(out);
}

async function kill(): Promise<void> {
  const proc = child!;
  const exited = new Promise<NodeJS.Signals | null>((r) => proc.once('exit', (_code, signal) => r(signal)));
  proc.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
}

/** Non-retained, QoS 1: what most zigbee2mqtt, ESPHome and Tasmota setups send. */
async function press(user: User, value: string): Promise<void> {
  await desk.publishAsync(`${base}-desk/${user}`, value, { qos: 1, retain: false });
}

const log = (): string => readFileSync(logFile, 'utf8');

async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`${what}: the bridge exited:\n${log().slice(-3000)}`);
    if (Date.now() - start > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms\n${log().slice(-3000)}`);
    await sleep(50);
  }
}

/** Presence calls for a user from request log index `from`, as `set Pair` / `clear`, with status. */
function calls(user: User, from: number): string[] {
  const id = ids.get(user)!;
  return emulator
    .requestLog()
    .slice(from)
    .flatMap((e) => {
      if (e.route === `/users/${id}/presence/setPresence`) {
        const body = e.body as { availability: string; activity: string };
        return [`set ${body.availability}/${body.activity} ${e.status}`];
      }
      return e.route === `/users/${id}/presence/clearPresence` ? [`clear ${e.status}`] : [];
    });
}

const pairOf = (user: User): string | null => sessionPair(emulator, ids.get(user)!);

/** The bridge's current process is up and its inputs are connected (MQTT subscribed, port open). */
async function bridgeReady(from: number): Promise<void> {
  await until('the bridge started', () => log().slice(from).includes('started for 3 user(s)'));
  await until('the serial port opened', () => log().slice(from).includes(`opened ${pty.a}`));
  // Subscribed: a non-retained message published from now on reaches it.
  await until('the bridge online on MQTT', () => onlineCount > onlineAtStart);
}

/**
 * SIGKILL, optionally something done while down, restart with the desk silent, wait past the grace.
 * Returns, per user, whether their presence was kept: the same pair at Graph, no clear from the
 * kill on, and a setPresence of that pair by the new process.
 */
async function killAndRestart(expected: Partial<Record<User, string>>, whileDown?: () => Promise<void>): Promise<Map<User, { kept: boolean; calls: string[] }>> {
  await kill();
  const mark = emulator.requestLog().length;
  await whileDown?.();
  const logMark = log().length;
  const restartedAt = Date.now();
  startBridge();
  await bridgeReady(logMark);
  await sleep(PAST_GRACE_MS - (Date.now() - restartedAt));
  const out = new Map<User, { kept: boolean; calls: string[] }>();
  for (const [user, pair] of Object.entries(expected) as [User, string][]) {
    const made = calls(user, mark);
    out.set(user, { kept: pairOf(user) === pair && !made.some((c) => c.startsWith('clear')) && made.includes(`set ${pair} 200`), calls: made });
  }
  const lost = [...out.values()].filter((r) => !r.kept).length;
  tally.states += out.size;
  tally.kept += out.size - lost;
  results.record('SIGKILL and restart of presence-bridge run, inputs silent after the restart', {
    survived: lost === 0,
    statesLost: lost,
    recoveryMs: Date.now() - restartedAt,
    unit: 'real',
    note: `${tally.kept} of ${tally.states} states kept`,
  });
  return out;
}

function expectKept(outcome: Map<User, { kept: boolean; calls: string[] }>): void {
  for (const [user, r] of outcome) expect.soft(r, `${user}: ${r.calls.join(', ')}`).toMatchObject({ kept: true });
}

describe('presence-bridge run SIGKILLed and restarted while the inputs stay silent', () => {
  it('a non-retained ON, a toggle position and a serial hook keep their users\' presence, with no clear, renewed by the new process', async () => {
    startBridge();
    await bridgeReady(0);
    await press('alex', 'ON');
    await press('blake', 'single');
    await press('blake', 'single'); // second press of the cycle: DoNotDisturb
    await hook.write('OFFHOOK\r\n');
    await until('first states at Graph', () => pairOf('alex') === 'Busy/InACall' && pairOf('blake') === 'DoNotDisturb/Presenting' && pairOf('casey') === 'Busy/InACall');
    await until('the intents on disk', () => existsSync(join(dir, 'presence-bridge-intents.json')) && readFileSync(join(dir, 'presence-bridge-intents.json'), 'utf8').includes('casey hook'));

    const outcome = await killAndRestart({ alex: 'Busy/InACall', blake: 'DoNotDisturb/Presenting', casey: 'Busy/InACall' });
    expectKept(outcome);

    // The restored toggle position: the next press ends the cycle (clear), it does not start over.
    const mark = emulator.requestLog().length;
    await press('blake', 'single');
    await until('blake cleared by the third press', () => pairOf('blake') === null);
    expect(calls('blake', mark)).toEqual(['clear 200']);
  });

  it('a timed intent is restored with its original end', async () => {
    await press('alex', 'meeting');
    await until('alex DoNotDisturb', () => pairOf('alex') === 'DoNotDisturb/Presenting');
    const file = join(dir, 'presence-bridge-intents.json');
    const endOf = async (): Promise<number | undefined> =>
      (JSON.parse(await readFile(file, 'utf8')) as { intents: { input: string; until?: number }[] }).intents.find((i) => i.input === 'alex button')?.until;
    await until('the timed intent on disk', () => readFileSync(file, 'utf8').includes('"until"'));
    const end = await endOf();
    expect(end).toBeGreaterThan(Date.now() + 29 * 60_000);

    const logMark = log().length;
    const outcome = await killAndRestart({ alex: 'DoNotDisturb/Presenting' });
    expectKept(outcome);
    expect.soft(log().slice(logMark)).toContain(`alex: restored DoNotDisturb/Presenting from input "alex button"`);
    expect.soft(log().slice(logMark)).toContain(`until ${new Date(end!).toISOString()}`);
    expect.soft(await endOf()).toBe(end);
  });

  it('an OFF published while the bridge was down still wins after the restart', async () => {
    const mark = emulator.requestLog().length;
    const outcome = await killAndRestart({ casey: 'Busy/InACall' }, () => press('alex', 'OFF'));
    expectKept(outcome);
    await until('alex cleared', () => pairOf('alex') === null);
    expect(calls('alex', mark).filter((c) => c.startsWith('clear'))).toEqual(['clear 200']);
  });

  it('an intent older than the limit (the bridge down longer than graph.expiration) is not restored, and its session is cleared', async () => {
    await press('alex', 'ON');
    await until('alex Busy', () => pairOf('alex') === 'Busy/InACall');
    await until('alex on disk', () => readFileSync(join(dir, 'presence-bridge-intents.json'), 'utf8').includes('"alex button"'));
    await kill();
    const mark = emulator.requestLog().length;
    // The bridge "died" two hours ago: every time in the file moves back by as much (a real wait
    // would take an hour; the file is what the next start reads).
    const file = join(dir, 'presence-bridge-intents.json');
    const stored = JSON.parse(await readFile(file, 'utf8')) as { aliveAt: number; intents: { at: number; until?: number }[] };
    const shift = 2 * 3_600_000;
    stored.aliveAt -= shift;
    for (const i of stored.intents) {
      i.at -= shift;
      if (i.until !== undefined) i.until -= shift;
    }
    await writeFile(file, JSON.stringify(stored), { mode: 0o600 });
    const logMark = log().length;
    startBridge();
    await bridgeReady(logMark);
    await until('alex and casey cleared after the grace', () => pairOf('alex') === null && pairOf('casey') === null);
    expect(log().slice(logMark)).toContain('alex: not restoring Busy/InACall from input "alex button": the bridge was down longer than graph.expiration (PT1H)');
    expect(calls('alex', mark)).toEqual(['clear 200']);
    expect(calls('casey', mark)).toEqual(['clear 200']);
  });

  it('SIGTERM (onShutdown: clear) clears, and the next start asserts the held intents again', async () => {
    await press('alex', 'ON');
    await until('alex Busy', () => pairOf('alex') === 'Busy/InACall');
    const proc = child!;
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(pairOf('alex')).toBeNull();
    const mark = emulator.requestLog().length;
    const logMark = log().length;
    startBridge();
    await bridgeReady(logMark);
    await until('alex Busy again', () => pairOf('alex') === 'Busy/InACall');
    expect(calls('alex', mark)).toEqual(['set Busy/InACall 200']);
    expect(rejections.seen).toEqual([]);
  });
});

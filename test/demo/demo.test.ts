import { execFile, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserState } from '../../src/bridgeTypes.js';
import { validateConfig } from '../../src/configuration.js';
import type { StatusSnapshot } from '../../src/statusPage/index.js';
import { builtProduct } from '../helpers/builtProduct.js';

/*
 * `presence-bridge demo` as a newcomer meets it: the built CLI, its printed commands run exactly
 * as printed through a shell, the status page's API watched until the users change, then Ctrl-C.
 */

const ROOT = resolve(import.meta.dirname, '../..');
/** The CLI of the run's one build (test/setup/buildProduct.ts); the demo runs from the repo as a newcomer runs it. */
const CLI = builtProduct().cli;

interface Step {
  readonly what: string;
  readonly mosquitto: string;
  readonly npx: string;
}

interface Printed {
  readonly statusUrl: string;
  readonly brokerPort: number;
  readonly emulatorUrl: string;
  readonly configFile: string;
  readonly steps: Step[];
}

function parseInstructions(text: string): Printed {
  const statusUrl = /Status page:\s+(http:\/\/\S+)/.exec(text)?.[1];
  const brokerPort = /MQTT broker:\s+127\.0\.0\.1:(\d+)/.exec(text)?.[1];
  const emulatorUrl = /Graph:\s+emulated at (https:\/\/\S+)/.exec(text)?.[1];
  const configFile = /Config used:\s+(\S+)/.exec(text)?.[1];
  if (!statusUrl || !brokerPort || !emulatorUrl || !configFile) throw new Error(`instructions incomplete:\n${text}`);
  const steps: Step[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const heading = /^\s+\d+\. (.+)$/.exec(lines[i]!);
    if (!heading) continue;
    const mosquitto = lines[i + 1]?.trim() ?? '';
    const npx = lines[i + 2]?.trim() ?? '';
    expect(mosquitto).toMatch(/^mosquitto_pub /);
    expect(npx).toMatch(/^npx mqtt pub /);
    steps.push({ what: heading[1]!, mosquitto, npx });
  }
  return { statusUrl, brokerPort: Number(brokerPort), emulatorUrl, configFile, steps };
}

function run(command: string, file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(file, args, { cwd: ROOT, env, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolvePromise(stdout);
    });
  });
}

/** A printed command line, run by a shell exactly as a person would paste it. */
function runAsPrinted(line: string, env: NodeJS.ProcessEnv): Promise<string> {
  return run(line, '/bin/sh', ['-c', line], env);
}

function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, name)));
}

async function state(url: string): Promise<StatusSnapshot> {
  const response = await fetch(new URL('api/state', url));
  expect(response.status).toBe(200);
  return (await response.json()) as StatusSnapshot;
}

/** Polls the status API (real time passes: the demo runs on a sped-up real clock). */
async function waitFor(url: string, what: string, test: (s: StatusSnapshot) => boolean, timeoutMs = 20_000): Promise<StatusSnapshot> {
  const deadline = Date.now() + timeoutMs;
  let last: StatusSnapshot | undefined;
  while (Date.now() < deadline) {
    last = await state(url);
    if (test(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}; last state: ${JSON.stringify(last?.users, null, 1)}`);
}

function user(s: StatusSnapshot, key: string): UserState {
  const found = s.users.find((u) => u.userKey === key);
  if (!found) throw new Error(`no user ${key}`);
  return found;
}

const pair = (p: { availability: string; activity: string } | null): string | null => (p ? `${p.availability}/${p.activity}` : null);

function refused(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolvePromise(false);
    });
    socket.once('error', () => resolvePromise(true));
  });
}

describe('presence-bridge demo (built CLI, commands run as printed)', () => {
  let child: ChildProcess;
  let output = '';
  let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let printed: Printed;
  let shimDir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    shimDir = await mkdtemp(join(tmpdir(), 'pb-demo-test-'));
    env = { ...process.env, NO_COLOR: '1' };
    if (!onPath('mosquitto_pub')) {
      // Only the broker is installed here, not mosquitto-clients: a stand-in with the same
      // -h/-p/-t/-m flags (mqtt.js's own pub), so the printed line still runs through the shell as printed.
      const shim = join(shimDir, 'mosquitto_pub');
      await writeFile(shim, `#!/bin/sh\nexec "${join(ROOT, 'node_modules/.bin/mqtt')}" pub "$@"\n`);
      await chmod(shim, 0o755);
      env.PATH = `${shimDir}${delimiter}${env.PATH ?? ''}`;
    }
    child = spawn(process.execPath, [CLI, 'demo'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    exit = new Promise((resolvePromise) => child.once('exit', (code, signal) => resolvePromise({ code, signal })));
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const deadline = Date.now() + 45_000;
    while (!output.includes('Press Ctrl-C to stop')) {
      if (child.exitCode !== null) throw new Error(`demo exited early:\n${output}`);
      if (Date.now() > deadline) throw new Error(`demo did not print its instructions:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    printed = parseInstructions(output);
  }, 180_000);

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exit;
    }
    if (shimDir) await rm(shimDir, { recursive: true, force: true });
  });

  it('prints the page, the broker, the config it used (a valid config) and commands for every step', async () => {
    expect(printed.statusUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(printed.steps.length).toBeGreaterThanOrEqual(5);
    for (const step of printed.steps) {
      expect(step.mosquitto).toContain(`-h 127.0.0.1 -p ${printed.brokerPort} -t `);
      expect(step.npx.replace(/^npx mqtt pub/, 'mosquitto_pub')).toBe(step.mosquitto);
    }
    const raw = JSON.parse(await readFile(printed.configFile, 'utf8')) as unknown;
    const checked = validateConfig(raw);
    expect(checked.ok ? [] : checked.errors).toEqual([]);
    const page = await fetch(printed.statusUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await page.text()).toContain('<title>Presence Bridge status</title>');
  });

  it('the printed commands work as printed: users turn Busy, DoNotDisturb, Available (renewed), Away and back', async () => {
    const step = (start: string): Step => {
      const found = printed.steps.find((s) => s.what.startsWith(start));
      if (!found) throw new Error(`no step "${start}" in:\n${output}`);
      return found;
    };
    const url = printed.statusUrl;

    await runAsPrinted(step('Megan picks up her headset').npx, env);
    let s = await waitFor(url, 'Megan Busy at Graph', (x) => pair(user(x, 'megan').actual) === 'Busy/InACall');
    expect(pair(user(s, 'megan').desired)).toBe('Busy/InACall');
    expect(user(s, 'megan').source).toBe('Headset');
    expect(pair(user(s, 'megan').confirmed)).toBe('Busy/InACall');
    expect(user(s, 'megan').sessionExpiresAt).toBeGreaterThan(s.now);
    expect(s.timeline.some((e) => e.kind === 'signal' && e.title === 'Headset' && e.detail.includes('OFFHOOK'))).toBe(true);
    expect(s.timeline.some((e) => e.kind === 'graphCall' && e.title === 'setPresence' && e.userKey === 'megan' && e.ok)).toBe(true);

    await runAsPrinted(step('Megan hangs up').mosquitto, env);
    s = await waitFor(url, 'Megan cleared', (x) => user(x, 'megan').confirmed === null && pair(user(x, 'megan').actual) !== 'Busy/InACall');
    expect(user(s, 'megan').desired).toBeNull();

    await runAsPrinted(step('Alex presses the desk button').npx, env);
    await waitFor(url, 'Alex Busy', (x) => pair(user(x, 'alex').actual) === 'Busy/InACall');

    await runAsPrinted(step('Alex holds the button').mosquitto, env);
    await waitFor(url, 'Alex DoNotDisturb', (x) => pair(user(x, 'alex').actual) === 'DoNotDisturb/Presenting');

    // Available fades after 5 emulated minutes (5 real seconds at x60): the bridge must re-post it.
    await runAsPrinted(step('Alex double-presses').npx, env);
    s = await waitFor(
      url,
      'Available re-posted before it fades',
      (x) => x.timeline.filter((e) => e.title === 'setPresence' && e.userKey === 'alex' && e.detail.startsWith('Available/Available') && e.ok).length >= 2,
      30_000,
    );
    expect(pair(user(s, 'alex').actual)).toBe('Available/Available');

    await runAsPrinted(step('Any presence for anyone').mosquitto, env);
    await waitFor(url, 'Megan Away', (x) => pair(user(x, 'megan').actual) === 'Away/Away');
    await runAsPrinted(step('Back to nothing').npx, env);
    await waitFor(url, 'Megan cleared again', (x) => user(x, 'megan').confirmed === null);

    // Lee (configured by user principal name) has Teams running, in a meeting: the bridge's Available is set, Teams' Busy shows.
    await runAsPrinted(step('Lee sits down').mosquitto, env);
    s = await waitFor(url, "Lee's Available under Teams' Busy", (x) => pair(user(x, 'lee').confirmed) === 'Available/Available' && pair(user(x, 'lee').actual) === 'Busy/InAMeeting');
    expect(user(s, 'lee')).toMatchObject({ health: 'ok', overridden: false, actualFrom: 'otherSession', lastError: null });
  }, 120_000);

  it('Ctrl-C stops everything: exit 0, no child process, every port closed', async () => {
    const pid = child.pid!;
    // `ps --ppid` exits 1 when it lists nothing, which is what we want.
    const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).stdout.trim();
    expect(children).toBe('');
    const statusPort = Number(new URL(printed.statusUrl).port);
    const emulatorPort = Number(new URL(printed.emulatorUrl).port);
    child.kill('SIGINT');
    const { code, signal } = await exit;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(() => process.kill(pid, 0)).toThrow();
    for (const port of [statusPort, printed.brokerPort, emulatorPort]) expect(await refused(port)).toBe(true);
    expect(existsSync(printed.configFile)).toBe(false);
    expect(output).toMatch(/alex: presence cleared/);
  }, 60_000);
});

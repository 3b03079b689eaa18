import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/command.js';
import { command, createRunCommand } from '../../src/cli/commands/run.js';
import { createConsoleLogger } from '../../src/cli/consoleLogger.js';
import type { Emulator } from '../../src/emulator/index.js';
import { startEmulator } from '../../src/emulator/index.js';
import { Collect as Capture } from '../helpers/collect.js';
import { emulatorConfigBlock } from '../../src/emulator/configBlock.js';

function io(cwd: string, interrupted: Promise<void> = new Promise<void>(() => undefined)): CliIo & { stdout: Capture; stderr: Capture } {
  return { stdout: new Capture(), stderr: new Capture(), env: {}, cwd, interrupted };
}

let dir: string;
let emulator: Emulator | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pb-run-'));
});
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('presence-bridge run', () => {
  it('bad usage exits 2 with the help', async () => {
    const a = io(dir);
    expect(await command.run([], a)).toBe(2);
    expect(a.stderr.text).toContain('--config FILE is required');
    const b = io(dir);
    expect(await command.run(['--config', 'x.json', '--bogus'], b)).toBe(2);
    expect(b.stderr.text).toContain('Usage: presence-bridge run');
    const c = io(dir);
    expect(await command.run(['--config', 'x.json', '--http', 'eighty'], c)).toBe(2);
    expect(c.stderr.text).toContain('--http needs a port number');
  });

  it('a bad config exits 2 and lists every error', async () => {
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ auth: { tenantId: 't' }, users: [], graph: { expiration: 'PT9H' } }));
    const a = io(dir);
    expect(await command.run(['--config', 'bad.json'], a)).toBe(2);
    const lines = a.stderr.text.split('\n').filter((l) => l.startsWith('  '));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(a.stderr.text).toMatch(/auth\.clientId/);
    expect(a.stderr.text).toMatch(/users/);
    expect(a.stderr.text).toMatch(/graph\.expiration/);
  });

  it('runs against the emulator, hands the bridge to the add-on hook, and on SIGINT clears and exits 0', async () => {
    emulator = await startEmulator();
    const app = emulator.apps[0]!;
    const user = emulator.users[0]!;
    const config = {
      platform: 'PresenceBridge',
      ...emulatorConfigBlock(emulator, { graph: { pollSeconds: 0 } }),
      users: [{ key: 'alex', id: user.id }],
    };
    // a whole Homebridge config.json holding the platform block
    await writeFile(join(dir, 'config.json'), JSON.stringify({ bridge: { name: 'Homebridge' }, platforms: [config] }));
    let interrupt!: () => void;
    const interrupted = new Promise<void>((resolve) => {
      interrupt = resolve;
    });
    const runIo = io(dir, interrupted);
    const seen: { http?: { port: number; host: string }; storagePath?: string } = {};
    let stopped = false;
    const run = createRunCommand({
      onStarted: (context) => {
        seen.http = context.http;
        seen.storagePath = context.storagePath;
        context.bridge.setIntent('alex', 'homekit', { kind: 'set', pair: { availability: 'Busy', activity: 'InACall' }, at: context.clock.now() });
        const done = context.bridge.events.on('state', (s) => {
          if (s.health === 'ok' && s.confirmed?.availability === 'Busy') {
            done();
            interrupt();
          }
        });
        return Promise.resolve({
          stop: () => {
            stopped = true;
            return Promise.resolve();
          },
        });
      },
    });
    const code = await run.run(['--config', 'config.json', '--storage', 'store', '--http', '0', '--http-host', '127.0.0.2'], runIo);
    expect(code).toBe(0);
    expect(stopped).toBe(true);
    expect(seen).toEqual({ http: { port: 0, host: '127.0.0.2' }, storagePath: join(dir, 'store') });
    const calls = emulator
      .requestLog()
      .filter((e) => e.kind === 'graph')
      .map((e) => `${e.route.split('/').at(-1)} ${e.status}`);
    expect(calls).toEqual(['setPresence 200', 'clearPresence 200']);
    expect(runIo.stdout.text).toMatch(/^\d{4}-\d\d-\d\dT\S+Z INFO {2}.*started for 1 user/m);
    expect(runIo.stdout.text).toMatch(/INFO {2}stopped\n$/);
    expect(runIo.stdout.text).not.toContain(app.clientSecret);
    expect(runIo.stdout.text).not.toContain('\u001b['); // not a TTY: no colours
    expect(await readFile(join(dir, 'config.json'), 'utf8')).toContain('PresenceBridge');
  });
});

describe('console logger', () => {
  it('writes time, level and message; colours only on a TTY; filters by level', () => {
    const plain = new Capture();
    const log = createConsoleLogger({ stream: plain, level: 'info', now: () => Date.UTC(2026, 0, 5, 9, 0, 0) });
    log.debug('hidden');
    log.info('hello %s', 'world');
    log.error('bad', { code: 7 });
    expect(plain.text).toBe('2026-01-05T09:00:00.000Z INFO  hello world\n2026-01-05T09:00:00.000Z ERROR bad { code: 7 }\n');
    const tty = new Capture();
    tty.isTTY = true;
    createConsoleLogger({ stream: tty, level: 'debug' }).warn('careful');
    expect(tty.text).toContain('\u001b[33mWARN \u001b[0m careful');
    const noColor = new Capture();
    noColor.isTTY = true;
    createConsoleLogger({ stream: noColor, env: { NO_COLOR: '1' } }).warn('careful');
    expect(noColor.text).not.toContain('\u001b[');
  });
});

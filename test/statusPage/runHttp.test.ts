import { readFile, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/command.js';
import { command as run } from '../../src/cli/commands/run.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import type { StatusSnapshot } from '../../src/statusPage/index.js';
import { removeDir, tempDir } from '../helpers/tempDir.js';
import { emulatorConfigBlock } from '../../src/emulator/configBlock.js';

/* `presence-bridge run --config FILE --http 0`: the daemon serves its status page beside the bridge. */

describe('run --http', () => {
  let emulator: Emulator;
  let folder: string;
  let configFile: string;

  beforeAll(async () => {
    emulator = await startEmulator();
    folder = await tempDir('pb-run-http-');
    configFile = join(folder, 'config.json');
    await writeFile(
      configFile,
      JSON.stringify({
        platform: 'PresenceBridge',
        name: 'Desk bridge',
        ...emulatorConfigBlock(emulator, { graph: { pollSeconds: 0 } }),
        users: [{ key: 'alex', id: emulator.users[0]!.id, name: 'Alex Wilber' }],
      }),
    );
  });

  afterAll(async () => {
    await emulator?.close();
    if (folder) await removeDir(folder);
  });

  it('serves the status page on loopback while running and closes it on stop', async () => {
    let stop!: () => void;
    const interrupted = new Promise<void>((resolve) => (stop = resolve));
    const stdout = new PassThrough();
    let out = '';
    stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const io: CliIo = { stdout, stderr: stdout, env: {}, cwd: folder, interrupted };
    const exit = run.run(['--config', configFile, '--http', '0', '--storage', folder], io);

    const deadline = Date.now() + 20_000;
    let url: string | undefined;
    while (!(url = /status page at (http:\/\/\S+)/.exec(out)?.[1])) {
      if (Date.now() > deadline) throw new Error(`no status page address in:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const state = (await (await fetch(new URL('api/state', url))).json()) as StatusSnapshot;
    expect(state.name).toBe('Desk bridge');
    expect(state.demo).toBeNull();
    expect(state.users.map((u) => [u.userKey, u.displayName])).toEqual([['alex', 'Alex Wilber']]);
    expect((await fetch(url)).headers.get('content-type')).toBe('text/html; charset=utf-8');

    stop();
    expect(await exit).toBe(0);
    const port = Number(new URL(url).port);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });

  it('refuses --http-host without --http', async () => {
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const io: CliIo = { stdout: new PassThrough(), stderr, env: {}, cwd: folder, interrupted: new Promise(() => undefined) };
    expect(await run.run(['--config', configFile, '--http-host', '0.0.0.0'], io)).toBe(2);
    expect(err).toContain('--http-host needs --http PORT');
  });

  it('beyond loopback prints a generated token once and the page asks for it', async () => {
    let stop!: () => void;
    const interrupted = new Promise<void>((resolve) => (stop = resolve));
    const stdout = new PassThrough();
    let out = '';
    stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const io: CliIo = { stdout, stderr: stdout, env: {}, cwd: folder, interrupted };
    // Bound to every address; the test only talks to 127.0.0.1.
    const exit = run.run(['--config', configFile, '--http', '0', '--http-host', '0.0.0.0', '--storage', folder], io);
    const deadline = Date.now() + 20_000;
    let signIn: string | undefined;
    while (!(signIn = /open (http:\/\/\S+\?token=\S+) once/.exec(out)?.[1])) {
      if (Date.now() > deadline) throw new Error(`no sign-in address in:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(out).toContain('beyond loopback: the page asks for a token (generated for this run)');
    const token = new URL(signIn).searchParams.get('token')!;
    expect(out.split(token).length - 1).toBe(2); // the address to open and the bearer hint, printed once
    expect((await fetch(new URL('api/state', signIn))).status).toBe(401);
    expect((await fetch(new URL('api/state', signIn), { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    stop();
    expect(await exit).toBe(0);
  });

  it('serves the config file\'s http section without flags, with the token from PRESENCE_BRIDGE_HTTP_TOKEN, never printed', async () => {
    const sectionFile = join(folder, 'with-http.json');
    const block = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
    await writeFile(sectionFile, JSON.stringify({ ...block, http: { port: 0, host: '0.0.0.0' } }));
    let stop!: () => void;
    const interrupted = new Promise<void>((resolve) => (stop = resolve));
    const stdout = new PassThrough();
    let out = '';
    stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const token = 'token-from-the-environment';
    const io: CliIo = { stdout, stderr: stdout, env: { PRESENCE_BRIDGE_HTTP_TOKEN: token }, cwd: folder, interrupted };
    const exit = run.run(['--config', sectionFile, '--storage', folder], io);
    const deadline = Date.now() + 20_000;
    let url: string | undefined;
    while (!(url = /status page at (http:\/\/\S+) \(asks for its token/.exec(out)?.[1])) {
      if (Date.now() > deadline) throw new Error(`no status page address in:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(out).toContain('the page asks for a token (the one configured)');
    expect((await fetch(new URL('api/state', url))).status).toBe(401);
    expect((await fetch(new URL('api/state', url), { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(new URL('healthz', url))).status).toBe(200);
    stop();
    expect(await exit).toBe(0);
    expect(out).not.toContain(token);
  });

  it('refuses a PRESENCE_BRIDGE_HTTP_TOKEN too short to be a secret', async () => {
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const io: CliIo = { stdout: new PassThrough(), stderr, env: { PRESENCE_BRIDGE_HTTP_TOKEN: 'short' }, cwd: folder, interrupted: new Promise(() => undefined) };
    expect(await run.run(['--config', configFile, '--http', '0'], io)).toBe(2);
    expect(err).toContain('PRESENCE_BRIDGE_HTTP_TOKEN must be at least 16 characters');
  });
});

import { writeFile } from 'node:fs/promises';
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
});

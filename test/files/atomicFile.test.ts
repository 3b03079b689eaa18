import { lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ICachePlugin } from '@azure/msal-node';
import { afterEach, describe, expect, it } from 'vitest';
import { loadState, saveState, type EmulatorState } from '../../src/emulator/state.js';
import { temporaryName, writeFileAtomic } from '../../src/files/atomicFile.js';
import { fileCachePlugin } from '../../src/graph/tokenCacheFile.js';
import { StateFileWriter, stateFilePath } from '../../src/homebridge/stateFile.js';
import { silentLogger } from '../../src/logger.js';
import { SESSION_LEDGER_FILE, SessionLedger } from '../../src/session/sessionLedger.js';
import { removeDir, tempDir } from '../helpers/tempDir.js';

/*
 * The one writer every state file goes through (session ledger, Homebridge state file, emulator
 * state, token cache), on the real file system. The traps are the ones a local user on a shared
 * machine can set: a file or symlink waiting at the temporary name the old writers used
 * (`<file>.<pid>.tmp`), a stale temp file with wide bits, a generous umask.
 */

const folders: string[] = [];
afterEach(async () => {
  for (const folder of folders.splice(0)) await removeDir(folder);
});

async function scratch(): Promise<string> {
  const folder = await tempDir('pb-atomic-');
  folders.push(folder);
  return folder;
}

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

/** A stale temp file readable by everyone at the old, predictable name: reopened without O_EXCL it keeps its 0644. */
async function plantStale(file: string): Promise<void> {
  await writeFile(`${file}.${process.pid}.tmp`, 'stale', { mode: 0o644 });
}

/** A symlink at the old, predictable temp name: followed without O_EXCL, the data lands in `victim`. */
async function plantSymlink(file: string, victim: string): Promise<void> {
  await symlink(victim, `${file}.${process.pid}.tmp`);
}

describe('writeFileAtomic', () => {
  const oldUmask = process.umask();
  afterEach(() => {
    process.umask(oldUmask);
  });

  it('writes 0600 in new 0700 folders even under umask 0, and leaves no temp file', async () => {
    const root = await scratch();
    process.umask(0);
    const file = join(root, 'a', 'b', 'secret.json');
    await writeFileAtomic(file, '{"x":1}');
    expect(await readFile(file, 'utf8')).toBe('{"x":1}');
    expect(await modeOf(file)).toBe(0o600);
    expect(await modeOf(join(root, 'a'))).toBe(0o700);
    expect(await modeOf(join(root, 'a', 'b'))).toBe(0o700);
    expect(await readdir(join(root, 'a', 'b'))).toEqual(['secret.json']);
  });

  it('replaces a world-readable file with a private one and never reuses it', async () => {
    const root = await scratch();
    const file = join(root, 'cache.json');
    await writeFile(file, 'old', { mode: 0o644 });
    const before = (await stat(file)).ino;
    await writeFileAtomic(file, 'new');
    expect(await modeOf(file)).toBe(0o600);
    expect((await stat(file)).ino).not.toBe(before);
  });

  it('uses an unpredictable, hidden temp name beside the file', () => {
    const names = new Set(Array.from({ length: 50 }, () => temporaryName('/x/y/state.json')));
    expect(names.size).toBe(50);
    for (const name of names) {
      expect(name.startsWith('/x/y/.state.json.')).toBe(true);
      expect(name).not.toContain(String(process.pid));
      expect(name.endsWith('.tmp')).toBe(true);
    }
  });

  it('keeps the old content when the write fails and cleans up its temp file', async () => {
    const root = await scratch();
    const file = join(root, 'target');
    await mkdir(file); // a folder where the file should go: the rename fails
    await expect(writeFileAtomic(file, 'data')).rejects.toThrow();
    expect(await readdir(root)).toEqual(['target']);
  });
});

describe('every state file goes through the shared writer', () => {
  it('session ledger: 0600, a stale 0644 file at the old temp name is not reused', async () => {
    const root = await scratch();
    const storage = join(root, 'storage');
    await mkdir(storage, { mode: 0o700 });
    await plantStale(join(storage, SESSION_LEDGER_FILE));
    const ledger = new SessionLedger(storage, silentLogger);
    ledger.ensureListed('user-1');
    await ledger.flush();
    const file = join(storage, SESSION_LEDGER_FILE);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ version: 1, users: ['user-1'] });
    expect(await modeOf(file)).toBe(0o600);
    expect(await readFile(`${file}.${process.pid}.tmp`, 'utf8')).toBe('stale');
  });

  it('Homebridge state file: 0600 in a new 0700 folder, a symlink at the old temp name is not followed', async () => {
    const storage = await scratch();
    const file = stateFilePath(storage);
    await mkdir(join(file, '..'), { mode: 0o755 }); // the folder exists already: left as the user made it
    await plantSymlink(file, join(storage, 'victim'));
    const writer = new StateFileWriter(storage, silentLogger);
    writer.write(() => ({ writtenAt: 1, users: [] }));
    await writer.flush();
    expect((await lstat(file)).isFile()).toBe(true);
    expect(await modeOf(file)).toBe(0o600);
    await expect(lstat(join(storage, 'victim'))).rejects.toThrow(/ENOENT/);

    const fresh = await scratch();
    const freshWriter = new StateFileWriter(fresh, silentLogger);
    freshWriter.write(() => ({ writtenAt: 2, users: [] }));
    await freshWriter.flush();
    expect(await modeOf(join(stateFilePath(fresh), '..'))).toBe(0o700);
  });

  it('emulator state: 0600 in a new 0700 folder', async () => {
    const root = await scratch();
    const file = join(root, 'emu', 'state.json');
    await mkdir(join(root, 'emu'), { mode: 0o700 });
    await plantStale(file);
    const state = {
      version: 1,
      savedAt: 5,
      directory: { tenantId: 't', apps: [], users: [] },
      presence: {},
      refreshTokens: [],
      ca: { certPem: 'c', keyPem: 'k' },
      signingKeyPem: 's',
    } as unknown as EmulatorState;
    await saveState(file, state);
    expect(await modeOf(file)).toBe(0o600);
    expect((await loadState(file))?.savedAt).toBe(5);
    expect(await readFile(`${file}.${process.pid}.tmp`, 'utf8')).toBe('stale');
    const nested = join(root, 'new', 'state.json');
    await saveState(nested, state);
    expect(await modeOf(join(root, 'new'))).toBe(0o700);
  });

  it('token cache: 0600 in a new 0700 folder, a planted temp file left alone, read back by the next access', async () => {
    const root = await scratch();
    const file = join(root, 'storage', 'token-cache.json');
    await mkdir(join(root, 'storage'), { mode: 0o700 });
    await plantStale(file);
    const plugin = fileCachePlugin(file, silentLogger);
    let read = '';
    // The two members of MSAL's TokenCacheContext the plugin touches.
    const context = (serialized: string) =>
      ({ cacheHasChanged: true, tokenCache: { serialize: () => serialized, deserialize: (text: string) => void (read = text) } }) as unknown as Parameters<ICachePlugin['afterCacheAccess']>[0];
    await plugin.afterCacheAccess(context('{"Account":{}}'));
    expect(await modeOf(file)).toBe(0o600);
    expect(await readFile(`${file}.${process.pid}.tmp`, 'utf8')).toBe('stale');
    await plugin.beforeCacheAccess(context(''));
    expect(read).toBe('{"Account":{}}');
    const nested = join(root, 'new', 'token-cache.json');
    await fileCachePlugin(nested, silentLogger).afterCacheAccess(context('{}'));
    expect(await modeOf(join(root, 'new'))).toBe(0o700);
    expect(await modeOf(nested)).toBe(0o600);
  });
});

import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StateFileWriter, stateFilePath, type StateSnapshot } from '../../src/homebridge/stateFile.js';
import { silentLogger } from '../../src/logger.js';
import { capturingLogger } from '../helpers/logger.js';
import { tempDir } from './homebridgeRunner.js';

const folders: string[] = [];
afterEach(async () => {
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
});

describe('StateFileWriter', () => {
  it('coalesces a burst into few writes and leaves the latest snapshot on disk, private to the user', async () => {
    const storage = await tempDir('pb-state-');
    folders.push(storage);
    const writer = new StateFileWriter(storage, silentLogger);
    let taken = 0;
    for (let i = 1; i <= 200; i++) {
      writer.write(() => {
        taken++;
        return { writtenAt: i, users: [] } satisfies StateSnapshot;
      });
    }
    await writer.flush();
    const file = stateFilePath(storage);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ writtenAt: 200, users: [] });
    expect(taken).toBe(1);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    // A later write after the burst settled still lands.
    writer.write(() => ({ writtenAt: 201, users: [] }));
    await writer.flush();
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ writtenAt: 201, users: [] });
  });

  it('logs a write it cannot do and keeps going', async () => {
    const storage = await tempDir('pb-state-');
    folders.push(storage);
    // A file where the folder should be: mkdir fails.
    await writeFile(join(storage, 'presence-bridge'), 'not a folder');
    const logger = capturingLogger();
    const warnings = () => logger.lines.filter((l) => l.level === 'warn').map((l) => l.message);
    const writer = new StateFileWriter(storage, logger);
    writer.write(() => ({ writtenAt: 1, users: [] }));
    await writer.flush();
    expect(warnings()).toHaveLength(1);
    expect(logger.count('error', /./)).toBe(0);
    expect(warnings()[0]).toMatch(/could not write .*state\.json/);
    await rm(join(storage, 'presence-bridge'));
    await mkdir(join(storage, 'presence-bridge'));
    writer.write(() => ({ writtenAt: 2, users: [] }));
    await writer.flush();
    expect(JSON.parse(await readFile(stateFilePath(storage), 'utf8'))).toEqual({ writtenAt: 2, users: [] });
  });
});

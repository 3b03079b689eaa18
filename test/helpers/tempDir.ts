import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A new empty folder under the system temp folder, its name starting with `prefix`. */
export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Removes a folder and everything in it (nothing when it is gone already). */
export async function removeDir(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** Mode of the file; default 0600 (owner only): every state file may hold something private. */
  readonly mode?: number;
}

/** Folders this writer creates are owner-only. Folders that already exist are left as they are. */
export const STATE_FOLDER_MODE = 0o700;
export const STATE_FILE_MODE = 0o600;

/** The temporary name for `file`: beside it (same file system, so the rename is atomic), hidden and unguessable. */
export function temporaryName(file: string): string {
  return join(dirname(file), `.${basename(file)}.${randomBytes(9).toString('base64url')}.tmp`);
}

/**
 * Writes `data` to `file` so that readers see the old content or the new one, never half of it,
 * and nobody else can read or pre-empt it:
 * - missing folders are created 0700;
 * - the data goes to a temporary file with an unpredictable name, created exclusively (`wx`), so a
 *   file or symlink planted at a guessed name is never followed or overwritten;
 * - the temporary file is 0600 (chmod after creation: the umask only ever narrows the mode), then
 *   renamed over `file`, so a file that was there with wider bits is replaced, not reused.
 * No fsync: a killed process loses nothing the kernel holds; a power cut may lose the newest write.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const mode = options.mode ?? STATE_FILE_MODE;
  await mkdir(dirname(file), { recursive: true, mode: STATE_FOLDER_MODE });
  const temp = temporaryName(file);
  try {
    await writeFile(temp, data, { mode, flag: 'wx' });
    await chmod(temp, mode);
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

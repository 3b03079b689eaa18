import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../files/atomicFile.js';
import type { CertificateAuthority } from './certificates.js';
import type { RefreshGrant } from './context.js';
import type { Directory } from './directory.js';
import type { UserPresenceRecord } from './presenceStore.js';

/** What `--state FILE` keeps across restarts. Holds secrets: written with mode 0600. */
export interface EmulatorState {
  readonly version: 1;
  /** Emulator clock when saved: time resumes from here after a restart. */
  readonly savedAt: number;
  readonly directory: Directory;
  readonly presence: Record<string, UserPresenceRecord>;
  readonly refreshTokens: [string, RefreshGrant][];
  readonly ca: CertificateAuthority;
  readonly signingKeyPem: string;
}

function looksLikeState(value: unknown): value is EmulatorState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<EmulatorState>;
  return (
    v.version === 1 &&
    typeof v.savedAt === 'number' &&
    typeof v.directory?.tenantId === 'string' &&
    Array.isArray(v.directory.apps) &&
    Array.isArray(v.directory.users) &&
    typeof v.presence === 'object' &&
    Array.isArray(v.refreshTokens) &&
    typeof v.ca?.certPem === 'string' &&
    typeof v.signingKeyPem === 'string'
  );
}

/** The saved state, undefined when the file does not exist; throws when it exists but is not a state file. */
export async function loadState(file: string): Promise<EmulatorState | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed: unknown = JSON.parse(text);
  if (!looksLikeState(parsed)) throw new Error(`${file} is not an emulator state file`);
  // State files from before groups existed have none.
  return { ...parsed, directory: { ...parsed.directory, groups: Array.isArray(parsed.directory.groups) ? parsed.directory.groups : [] } };
}

export async function saveState(file: string, state: EmulatorState): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`);
}

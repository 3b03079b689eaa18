import { join } from 'node:path';
import { writeFileAtomic } from '../files/atomicFile.js';
import type { UserState } from '../bridgeTypes.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';

/** Folder (inside Homebridge's storage path) where the plugin keeps what its custom UI reads. */
export const STATE_FOLDER = 'presence-bridge';
export const STATE_FILE = 'state.json';

export function stateFilePath(storagePath: string): string {
  return join(storagePath, STATE_FOLDER, STATE_FILE);
}

/** What the custom UI's status view reads. Holds no secret: UserState carries none. */
export interface StateSnapshot {
  readonly writtenAt: number;
  readonly users: readonly UserState[];
}

/**
 * Writes the users' states for the custom UI, coalescing bursts: at most one write in flight,
 * and the latest snapshot always ends up on disk. Written to a temporary file and renamed, so
 * the UI never reads half a file.
 */
export class StateFileWriter {
  private readonly file: string;
  private pending: (() => StateSnapshot) | null = null;
  private writing: Promise<void> | null = null;

  constructor(
    storagePath: string,
    private readonly logger: Logger,
  ) {
    this.file = stateFilePath(storagePath);
  }

  /** Asks for a write; `snapshot` is taken when the write happens, so a burst costs one. */
  write(snapshot: () => StateSnapshot): void {
    this.pending = snapshot;
    if (!this.writing) this.writing = this.drain();
  }

  /** Resolves when everything asked so far is on disk (or failed and was logged). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    // Yield first: write() stores this promise before the loop can finish and reset it, and a
    // synchronous burst of state events becomes one write.
    await Promise.resolve();
    try {
      while (this.pending) {
        const take = this.pending;
        this.pending = null;
        try {
          const snapshot = take();
          await writeFileAtomic(this.file, JSON.stringify(snapshot, null, 2));
        } catch (error) {
          this.logger.warn(`could not write ${this.file}: ${errorMessage(error)}`);
        }
      }
    } finally {
      this.writing = null;
    }
  }
}

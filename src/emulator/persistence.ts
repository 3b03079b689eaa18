import { errorMessage, type Logger } from '../logger.js';
import { saveState, type EmulatorState } from './state.js';

export interface Persister {
  /** Saves now (at most one save in flight and one queued). */
  persistNow(): Promise<void>;
  /** Saves soon: changes within 50 ms share one write. */
  schedule(): void;
  /** Drops a scheduled save (close saves explicitly). */
  cancel(): void;
}

/**
 * Writes the `--state` file. The queued save snapshots when it runs, so a slow disk under many
 * changes never piles up snapshots in memory. Without a file every call does nothing.
 */
export function createPersister(file: string | undefined, snapshot: () => EmulatorState, logger: Logger): Persister {
  let timer: NodeJS.Timeout | undefined;
  let persisting: Promise<void> = Promise.resolve();
  let saveQueued = false;
  const persistNow = (): Promise<void> => {
    if (!file) return Promise.resolve();
    if (saveQueued) return persisting;
    saveQueued = true;
    const save = (): Promise<void> => {
      saveQueued = false;
      return saveState(file, snapshot());
    };
    persisting = persisting.then(save, save).catch((error: unknown) => logger.error(`emulator: cannot write state file ${file}: ${errorMessage(error)}`));
    return persisting;
  };
  return {
    persistNow,
    schedule: () => {
      if (!file || timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        void persistNow();
      }, 50);
      timer.unref();
    },
    cancel: () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../files/atomicFile.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';

export const SESSION_LEDGER_FILE = 'presence-bridge-sessions.json';

interface LedgerFile {
  readonly version: 1;
  /** Users that may hold a session of ours. Written on set/clear only, not on renewals. */
  readonly users: string[];
}

/**
 * Which users may hold a session of ours at Graph, kept on disk. After a crash (kill -9, power
 * cut) no clear was sent; the next run reads this and clears the sessions nobody asks for any
 * more, instead of leaving a stale presence until it expires.
 *
 * Adding a user must reach the disk before the first setPresence for them leaves
 * ({@link ensureListed}); removals are written lazily (a stale entry only costs a harmless clear).
 */
export class SessionLedger {
  private readonly users = new Set<string>();
  /** Users a previous run left listed: kept until the bridge has dealt with them ({@link release}). */
  private readonly pinned = new Set<string>();
  /** The users the file on disk lists (after the last write that completed, or as loaded). */
  private onDisk = new Set<string>();
  /** The users the write in progress puts on disk, while one is. */
  private inWrite: ReadonlySet<string> | null = null;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  readonly file: string;

  constructor(
    storagePath: string,
    private readonly logger: Logger,
  ) {
    this.file = join(storagePath, SESSION_LEDGER_FILE);
  }

  /** Users whose session from a previous run may still be alive (a clear for a gone one is a harmless 404). */
  async load(): Promise<string[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn(`cannot read ${this.file}: ${errorMessage(error)}`);
      return [];
    }
    try {
      const parsed = JSON.parse(text) as Partial<LedgerFile>;
      const users = Array.isArray(parsed.users) ? parsed.users.filter((u): u is string => typeof u === 'string') : [];
      for (const u of users) {
        this.users.add(u);
        this.pinned.add(u);
      }
      this.onDisk = new Set(users);
      return users;
    } catch (error) {
      this.logger.warn(`ignoring ${this.file}: ${errorMessage(error)}`);
      return [];
    }
  }

  /** Record whether a user may hold a session of ours. */
  update(userId: string, mayHaveSession: boolean): void {
    // A previous run's user stays listed until the start-up grace has dealt with them: otherwise a
    // second crash within the grace would forget the first run's session.
    if (!mayHaveSession && this.pinned.has(userId)) return;
    if (this.users.has(userId) === mayHaveSession) return;
    if (mayHaveSession) this.users.add(userId);
    else this.users.delete(userId);
    this.schedule();
  }

  /** The bridge has dealt with a previous run's user: from now on `update` decides for them. */
  release(userId: string, mayHaveSession: boolean): void {
    this.pinned.delete(userId);
    this.update(userId, mayHaveSession);
  }

  /**
   * Call before a setPresence for `userId`. Returns undefined (go ahead at once, no disk wait) when
   * the file already lists the user and no write in progress drops them; otherwise records the
   * user and returns a promise that resolves once a file listing them replaced the old one (it
   * never rejects: a failed write is logged, and presence still beats crash bookkeeping).
   */
  ensureListed(userId: string): Promise<void> | undefined {
    this.users.add(userId);
    if (this.onDisk.has(userId) && (this.inWrite === null || this.inWrite.has(userId))) return undefined;
    this.schedule();
    return this.flush();
  }

  /** Resolves once what was recorded so far is on disk. */
  async flush(): Promise<void> {
    await this.writing;
    if (this.dirty) {
      this.schedule();
      await this.writing;
    }
  }

  private schedule(): void {
    if (this.dirty) return;
    this.dirty = true;
    this.writing = this.writing.then(() => this.write());
  }

  private async write(): Promise<void> {
    this.dirty = false;
    const snapshot = new Set(this.users);
    this.inWrite = snapshot;
    const body: LedgerFile = { version: 1, users: [...snapshot] };
    try {
      // temp + rename: the file is either the old list or the new one, never half written. No
      // fsync: a killed process loses nothing the kernel holds, and an fsync on a busy disk can
      // cost a first assertion 100 ms and more; a power cut may lose the newest entry, whose
      // session then simply expires.
      await writeFileAtomic(this.file, `${JSON.stringify(body)}\n`);
      this.onDisk = snapshot;
    } catch (error) {
      this.logger.warn(`cannot write ${this.file}: ${errorMessage(error)}`);
    } finally {
      this.inWrite = null;
    }
  }
}

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../files/atomicFile.js';
import { CoalescedWrites } from '../files/coalescedWrites.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';

export const SESSION_LEDGER_FILE = 'presence-bridge-sessions.json';

interface LedgerFile {
  readonly version: 1;
  /** Users that may hold a session of ours. Written on set/clear only, not on renewals. */
  readonly users: string[];
  /**
   * True from a run's start until its clean stop. A file still open at the next start means that
   * run was killed, and may have left a session for a user whose listing had not reached the disk.
   */
  readonly open?: boolean;
}

/**
 * Which users may hold a session of ours at Graph, kept on disk. After a crash (kill -9, power
 * cut) no clear was sent; the next run reads this and clears the sessions nobody asks for any
 * more, instead of leaving a stale presence until it expires.
 *
 * A user's first setPresence does not wait for their listing: it is written alongside
 * ({@link ensureListed}). What covers the moment between the two is the run's `open` mark, on
 * disk before any setPresence of the run and cleared only by a clean stop ({@link close}): a run
 * that finds the previous one still open treats every configured user as possibly holding a
 * session ({@link previousRunUnclean}). Removals are written lazily (a stale entry only costs a
 * harmless clear). docs/sessions.md has the argument.
 */
export class SessionLedger {
  private readonly users = new Set<string>();
  /** Users a previous run left listed: kept until the bridge has dealt with them ({@link release}). */
  private readonly pinned = new Set<string>();
  /** The users the file on disk lists (after the last write that completed, or as loaded). */
  private onDisk = new Set<string>();
  /** The users the write in progress puts on disk, while one is. */
  private inWrite: ReadonlySet<string> | null = null;
  /** Whole-file rewrites, coalesced and spaced: a burst of first signals costs a few writes, not one each. */
  private readonly writes = new CoalescedWrites(() => this.write());
  private open = false;
  private previousOpen = false;
  readonly file: string;

  constructor(
    storagePath: string,
    private readonly logger: Logger,
  ) {
    this.file = join(storagePath, SESSION_LEDGER_FILE);
  }

  /**
   * True when the previous run did not stop cleanly (its file was still marked open): it may have
   * left a session for any configured user, listed or not. Known once {@link load} resolved.
   */
  get previousRunUnclean(): boolean {
    return this.previousOpen;
  }

  /**
   * Users whose session from a previous run may still be alive (a clear for a gone one is a
   * harmless 404). Resolves once this run is marked open on disk, so no setPresence of this run
   * can leave before the mark.
   */
  async load(): Promise<string[]> {
    const users = await this.read();
    this.open = true;
    this.schedule();
    await this.flush();
    return users;
  }

  private async read(): Promise<string[]> {
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
      this.previousOpen = parsed.open === true;
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
   * Call before a setPresence for `userId`: records the user and, unless the file already lists
   * them (and no write in progress drops them), writes the listing in the background, in the
   * next of the coalesced writes (the first after a quiet spell at once, then at most one per
   * WRITE_SPACING_MS). Never makes the setPresence wait: until the listing lands, the run's open
   * mark covers the user.
   */
  ensureListed(userId: string): undefined {
    this.users.add(userId);
    if (this.onDisk.has(userId) && (this.inWrite === null || this.inWrite.has(userId))) return undefined;
    this.schedule();
    return undefined;
  }

  /** A clean stop: write the list as it is with the open mark cleared. */
  async close(): Promise<void> {
    if (!this.open) return this.flush();
    this.open = false;
    this.schedule();
    return this.flush();
  }

  /** Resolves once what was recorded so far is on disk. */
  flush(): Promise<void> {
    return this.writes.flush();
  }

  private schedule(): void {
    this.writes.request();
  }

  private async write(): Promise<void> {
    const snapshot = new Set(this.users);
    this.inWrite = snapshot;
    const body: LedgerFile = { version: 1, users: [...snapshot], open: this.open };
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

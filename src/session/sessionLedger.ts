import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
 */
export class SessionLedger {
  private readonly users = new Set<string>();
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
      for (const u of users) this.users.add(u);
      return users;
    } catch (error) {
      this.logger.warn(`ignoring ${this.file}: ${errorMessage(error)}`);
      return [];
    }
  }

  /** Record whether a user may hold a session of ours. */
  update(userId: string, mayHaveSession: boolean): void {
    if (this.users.has(userId) === mayHaveSession) return;
    if (mayHaveSession) this.users.add(userId);
    else this.users.delete(userId);
    this.schedule();
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
    const body: LedgerFile = { version: 1, users: [...this.users] };
    const temp = `${this.file}.${process.pid}.tmp`;
    try {
      await mkdir(join(this.file, '..'), { recursive: true });
      await writeFile(temp, `${JSON.stringify(body)}\n`, { mode: 0o600 });
      await rename(temp, this.file);
    } catch (error) {
      this.logger.warn(`cannot write ${this.file}: ${errorMessage(error)}`);
    }
  }
}

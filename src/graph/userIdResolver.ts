import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import { writeFileAtomic } from '../files/atomicFile.js';

/** The mapping of user principal names to object ids, in the storage folder (mode 0600). */
export const USER_ID_CACHE_FILE = 'presence-bridge-user-ids.json';

/** An Entra object id (GUID): the only user id presence routes and getPresencesByUserId take. */
export const OBJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isObjectId(id: string): boolean {
  return OBJECT_ID.test(id);
}

export interface ResolvedUser {
  readonly id: string;
  readonly displayName?: string;
}

export interface UserIdResolverDeps {
  /** Asks the directory for the object id of a user principal name (`GET /users/{upn}?$select=id,displayName`). */
  readonly lookup: (userPrincipalName: string) => Promise<ResolvedUser>;
  readonly logger: Logger;
  /** The storage folder; without one the mapping lives in memory only. */
  readonly storagePath?: string;
  /**
   * Which directory the names were resolved in (sign-in authority with its tenant, and Graph's
   * base URL): a cache written for another tenant or cloud is not used.
   */
  readonly scope?: string;
}

interface CacheFile {
  readonly version: 1;
  readonly scope?: string;
  readonly users: Record<string, ResolvedUser>;
}

/**
 * Turns a user principal name in `users[].id` into the user's object id before any presence call:
 * presence routes do not take a UPN (msgraph-sdk-dotnet issue 1942). Each UPN is looked up once;
 * the answer is kept in {@link USER_ID_CACHE_FILE}, so a restart needs no directory permission
 * for users already resolved. Object ids pass through untouched.
 */
export class UserIdResolver {
  private readonly byUpn = new Map<string, ResolvedUser>();
  private readonly pending = new Map<string, Promise<string>>();
  private loading: Promise<void> | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly deps: UserIdResolverDeps) {}

  private get file(): string | undefined {
    return this.deps.storagePath === undefined ? undefined : join(this.deps.storagePath, USER_ID_CACHE_FILE);
  }

  /** The object id for `idOrUpn` when known without a request (an object id, or a UPN resolved before). */
  known(idOrUpn: string): string | undefined {
    if (isObjectId(idOrUpn)) return idOrUpn;
    return this.byUpn.get(idOrUpn.toLowerCase())?.id;
  }

  /** Reads the cache file once (a missing or unreadable file is an empty cache). */
  load(): Promise<void> {
    this.loading ??= this.readCache();
    return this.loading;
  }

  /** The object id of `idOrUpn`; rejects with the lookup's error (permission missing, unknown UPN). */
  async resolve(idOrUpn: string): Promise<string> {
    if (isObjectId(idOrUpn)) return idOrUpn;
    await this.load();
    const key = idOrUpn.toLowerCase();
    const cached = this.byUpn.get(key);
    if (cached) return cached.id;
    let pending = this.pending.get(key);
    if (!pending) {
      pending = this.deps
        .lookup(idOrUpn)
        .then((user) => {
          this.byUpn.set(key, user);
          this.deps.logger.info(`user ${idOrUpn} is object id ${user.id}${user.displayName ? ` (${user.displayName})` : ''}`);
          this.save();
          return user.id;
        })
        .finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    return pending;
  }

  /** Forget a mapping Graph no longer knows (the user was deleted and perhaps created again). */
  forget(idOrUpn: string): void {
    if (this.byUpn.delete(idOrUpn.toLowerCase())) this.save();
  }

  /** Resolves once the last write of the cache file is done. */
  async flush(): Promise<void> {
    await this.writing;
  }

  private async readCache(): Promise<void> {
    const file = this.file;
    if (!file) return;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return; // first run
    }
    try {
      const data = JSON.parse(text) as Partial<CacheFile>;
      if (data.scope !== this.deps.scope) {
        this.deps.logger.debug(`${file} was written for another tenant or Graph endpoint; user principal names are looked up again`);
        return;
      }
      for (const [upn, user] of Object.entries(data.users ?? {})) {
        if (typeof user.id === 'string' && isObjectId(user.id)) this.byUpn.set(upn.toLowerCase(), { id: user.id, ...(typeof user.displayName === 'string' ? { displayName: user.displayName } : {}) });
      }
    } catch (error) {
      this.deps.logger.warn(`${file} is not readable JSON (${errorMessage(error)}); user principal names are looked up again`);
    }
  }

  private save(): void {
    const file = this.file;
    if (!file) return;
    const data: CacheFile = { version: 1, ...(this.deps.scope === undefined ? {} : { scope: this.deps.scope }), users: Object.fromEntries(this.byUpn) };
    this.writing = this.writing
      .then(() => writeFileAtomic(file, `${JSON.stringify(data, null, 2)}\n`))
      .catch((error: unknown) => this.deps.logger.warn(`cannot write ${file}: ${errorMessage(error)}; user principal names are looked up again after a restart`));
  }
}

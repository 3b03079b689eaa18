import { readFile } from 'node:fs/promises';
import type { ICachePlugin, TokenCacheContext } from '@azure/msal-node';
import { writeFileAtomic } from '../files/atomicFile.js';
import { errorMessage, type Logger } from '../logger.js';

/** Name of the delegated-mode token cache inside the storage folder. */
export const TOKEN_CACHE_FILE = 'presence-bridge-token-cache.json';

/**
 * MSAL's cache kept in one file, read before and written after each cache access. Written through
 * the shared state-file writer: temporary name, 0600, missing folders 0700, rename.
 */
export function fileCachePlugin(file: string, logger: Logger): ICachePlugin {
  return {
    async beforeCacheAccess(context: TokenCacheContext): Promise<void> {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn(`cannot read the token cache ${file}: ${errorMessage(error)}`);
        return;
      }
      try {
        context.tokenCache.deserialize(text);
      } catch (error) {
        logger.warn(`the token cache ${file} is unreadable (${errorMessage(error)}); sign in again with presence-bridge login`);
      }
    },
    async afterCacheAccess(context: TokenCacheContext): Promise<void> {
      if (!context.cacheHasChanged) return;
      await writeFileAtomic(file, context.tokenCache.serialize());
    },
  };
}

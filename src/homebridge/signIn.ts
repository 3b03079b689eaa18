import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveConfigPaths } from '../config/load.js';
import type { PresenceBridgeConfig } from '../config/schema.js';
import { createGraphStack, type DeviceCodePrompt, type SignedInAccount } from '../graph/index.js';
import { writeFileAtomic } from '../files/atomicFile.js';
import { TOKEN_CACHE_FILE } from '../graph/auth.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { systemClock } from '../shared/clock.js';

/**
 * The custom UI's "Sign in": a delegated device code sign-in with the same Graph stack and token
 * cache (in Homebridge's storage folder) the plugin uses, so the running plugin finds the account.
 * `onCode` gets the code to show; resolves with the account once the user has signed in.
 * Relative file options start at the storage folder, as in the plugin.
 */
export async function runDeviceCodeSignIn(
  config: PresenceBridgeConfig,
  storagePath: string,
  onCode: (prompt: DeviceCodePrompt) => void,
  logger: Logger = silentLogger,
): Promise<SignedInAccount> {
  const stack = createGraphStack(resolveConfigPaths(config, storagePath), { logger, clock: systemClock, storagePath });
  try {
    return await stack.tokens.login(onCode);
  } finally {
    await stack.close();
  }
}

/** Delegated mode: the account the token cache in the storage folder holds, if any. */
export async function signedInAccount(config: PresenceBridgeConfig, storagePath: string): Promise<SignedInAccount | undefined> {
  const stack = createGraphStack(resolveConfigPaths(config, storagePath), { logger: silentLogger, clock: systemClock, storagePath });
  try {
    return await stack.tokens.account();
  } finally {
    await stack.close();
  }
}

/** MSAL's serialized cache with nothing in it. */
const EMPTY_TOKEN_CACHE = JSON.stringify({ Account: {}, IdToken: {}, AccessToken: {}, RefreshToken: {}, AppMetadata: {} });

/**
 * Signs the delegated account out: the token cache is replaced by an empty one (rather than
 * deleted), because the running plugin reloads the file before each use and would otherwise keep
 * the account it holds in memory. Answers whether an account was cached.
 */
export async function signOut(storagePath: string): Promise<boolean> {
  const file = join(storagePath, TOKEN_CACHE_FILE);
  try {
    await access(file);
  } catch {
    return false;
  }
  await writeFileAtomic(file, EMPTY_TOKEN_CACHE);
  return true;
}

import { resolveConfigPaths } from '../config/load.js';
import type { PresenceBridgeConfig } from '../config/schema.js';
import { createGraphStack, type DeviceCodePrompt, type SignedInAccount } from '../graph/index.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { systemClock } from '../session/clock.js';

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

/**
 * Sign-in to Microsoft Entra ID through MSAL: the token provider for `auth.mode`. The pieces live
 * beside it, one job each: authTypes.ts (the provider's contract), applicationTokenProvider.ts
 * and delegatedTokenProvider.ts (the two modes), baseTokenProvider.ts (what they share),
 * msalOptions.ts (MSAL's logger and authority), certificateCredential.ts, tokenCacheFile.ts and
 * signInError.ts (MSAL failures as GraphErrors with hints).
 */
import type { PresenceBridgeConfig } from '../config/schema.js';
import { ApplicationTokenProvider } from './applicationTokenProvider.js';
import type { MsalTokenProvider, TokenProviderDeps } from './authTypes.js';
import { DelegatedTokenProvider } from './delegatedTokenProvider.js';

export type { DeviceCodePrompt, MsalTokenProvider, SignedInAccount, TokenProviderDeps } from './authTypes.js';
export { TOKEN_CACHE_FILE } from './tokenCacheFile.js';

/** The token provider for `auth.mode`. Throws GraphConfigError when the credential cannot be used. */
export function createTokenProvider(config: PresenceBridgeConfig, deps: TokenProviderDeps): MsalTokenProvider {
  return config.auth.mode === 'delegated' ? new DelegatedTokenProvider(config, deps) : new ApplicationTokenProvider(config, deps);
}

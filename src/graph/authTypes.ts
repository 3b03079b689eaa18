import type { Logger } from '../logger.js';
import type { Endpoints } from '../shared/clouds.js';
import type { Clock } from '../shared/clock.js';
import type { HttpStack } from './httpStack.js';
import type { AccessTokenProvider } from './types.js';

/** What the user must see to finish a device code sign-in. */
export interface DeviceCodePrompt {
  readonly userCode: string;
  readonly verificationUri: string;
  /** Seconds until the code expires. */
  readonly expiresInSeconds: number;
  /** The sign-in service's own sentence ("To sign in, use a web browser to open…"). */
  readonly message: string;
}

export interface SignedInAccount {
  readonly username: string;
  readonly name?: string;
  readonly localAccountId: string;
}

export interface MsalTokenProvider extends AccessTokenProvider {
  readonly mode: 'application' | 'delegated';
  /** Delegated mode: the token cache file; undefined in application mode. */
  readonly cacheFile?: string;
  /**
   * Delegated mode only: device code sign-in. `onCode` is called once with the code to show;
   * the promise resolves when the user has signed in (or rejects when the code expires, the
   * user declines, or `signal` aborts). The account replaces any account cached before.
   */
  login(onCode: (prompt: DeviceCodePrompt) => void, options?: { signal?: AbortSignal; timeoutSeconds?: number }): Promise<SignedInAccount>;
  /** Delegated mode: the cached account, if any. */
  account(): Promise<SignedInAccount | undefined>;
}

export interface TokenProviderDeps {
  readonly http: HttpStack;
  readonly endpoints: Endpoints;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Folder for the delegated token cache. */
  readonly storagePath: string;
}

import type { AuthenticationResult } from '@azure/msal-node';
import type { TokenProviderDeps } from './authTypes.js';
import { GraphError } from './types.js';

/** What both token providers share: one request in flight, and the check of MSAL's answer. */
export abstract class BaseProvider {
  private inflight: Promise<string> | undefined;
  private inflightForced: Promise<string> | undefined;

  constructor(
    readonly clientId: string,
    protected readonly deps: TokenProviderDeps,
  ) {}

  /** Concurrent callers share one request; a forced refresh joins one already under way. */
  getToken(options?: { forceRefresh?: boolean }): Promise<string> {
    const force = options?.forceRefresh === true;
    const current = force ? this.inflightForced : this.inflight;
    if (current) return current;
    const promise = this.acquire(force).finally(() => {
      if (force) this.inflightForced = undefined;
      else this.inflight = undefined;
    });
    if (force) this.inflightForced = promise;
    else this.inflight = promise;
    return promise;
  }

  protected abstract acquire(forceRefresh: boolean): Promise<string>;

  protected tokenOf(result: AuthenticationResult | null): string {
    if (!result?.accessToken) {
      throw new GraphError('the sign-in service returned no access token', { code: 'AUTH_FAILED', hint: 'check the app registration and try again', retryable: false });
    }
    return result.accessToken;
  }
}

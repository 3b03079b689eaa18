import type { AuthenticationResult } from '@azure/msal-node';
import type { TokenProviderDeps } from './authTypes.js';
import { GraphError } from './types.js';

/**
 * A held token is handed out without asking MSAL until this long before it expires (MSAL's own
 * default refresh buffer is 5 minutes, so by then it would fetch a new one anyway), or half its
 * lifetime for a short-lived one.
 */
export const TOKEN_REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;

interface HeldToken {
  readonly token: string;
  /** Wall-clock ms (MSAL's time base) after which MSAL is asked again. */
  readonly until: number;
}

/** Until when a token MSAL returned may be handed out without asking MSAL again (wall-clock ms). */
export function holdUntil(result: Pick<AuthenticationResult, 'expiresOn' | 'refreshOn'>, now: number): number {
  const expires = result.expiresOn?.getTime();
  if (expires === undefined || !Number.isFinite(expires) || expires <= now) return now;
  const lifetime = expires - now;
  let until = expires - Math.min(TOKEN_REFRESH_BEFORE_EXPIRY_MS, lifetime / 2);
  const refreshOn = result.refreshOn?.getTime();
  if (refreshOn !== undefined && Number.isFinite(refreshOn)) until = Math.min(until, refreshOn);
  return until;
}

/**
 * What both token providers share: one request in flight, the check of MSAL's answer, and (in
 * application mode) the held token. Every Graph request needs a token, and asking MSAL for it each time costs a cache
 * lookup (account and credential filtering, scope matching, expiry checks) per request, which at
 * hundreds of requests a second is a large part of a request's CPU. So the last token is held
 * and handed out until shortly before it expires ({@link holdUntil}); a forced refresh (Graph
 * refused the token with 401) always asks MSAL, skipping its cache, and replaces the held one.
 */
export abstract class BaseProvider {
  private inflight: Promise<string> | undefined;
  private inflightForced: Promise<string> | undefined;
  private held: HeldToken | undefined;
  /**
   * Whether tokens are held. Application mode only: in delegated mode MSAL reads the token cache
   * file on each call, so a `presence-bridge logout` from another process takes effect at the next
   * request, and one user's requests are few.
   */
  protected readonly holdsTokens: boolean = false;

  constructor(
    readonly clientId: string,
    protected readonly deps: TokenProviderDeps,
  ) {}

  /** Concurrent callers share one request; a forced refresh joins one already under way. */
  getToken(options?: { forceRefresh?: boolean }): Promise<string> {
    const force = options?.forceRefresh === true;
    if (!force && this.held !== undefined) {
      // MSAL's expiresOn is wall-clock time, so the held token is timed on the same base.
      if (Date.now() < this.held.until) return Promise.resolve(this.held.token);
      this.held = undefined;
    }
    if (force) this.held = undefined;
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
    const until = holdUntil(result, Date.now());
    // A plain request that started before a forced refresh may answer after it with the older
    // (refused) token: the token that lives longer is the newer one, and stays held.
    if (this.holdsTokens && (this.held === undefined || until >= this.held.until)) this.held = { token: result.accessToken, until };
    return result.accessToken;
  }
}

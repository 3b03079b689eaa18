import { join } from 'node:path';
import { PublicClientApplication, type AccountInfo } from '@azure/msal-node';
import type { PresenceBridgeConfig } from '../config/schema.js';
import type { DeviceCodePrompt, MsalTokenProvider, SignedInAccount, TokenProviderDeps } from './authTypes.js';
import { BaseProvider } from './baseTokenProvider.js';
import { LOGIN_HINT } from './errors.js';
import { createMsalNetworkClient } from './msalNetworkClient.js';
import { authOptions, msalLoggerOptions } from './msalOptions.js';
import { signInError } from './signInError.js';
import { fileCachePlugin, TOKEN_CACHE_FILE } from './tokenCacheFile.js';
import { GraphError } from './types.js';

function accountSummary(account: AccountInfo): SignedInAccount {
  return { username: account.username, name: account.name, localAccountId: account.localAccountId };
}

/** Delegated mode: a device code sign-in once, then silent refreshes from the cached refresh token. */
export class DelegatedTokenProvider extends BaseProvider implements MsalTokenProvider {
  readonly mode = 'delegated' as const;
  readonly cacheFile: string;
  private readonly app: PublicClientApplication;
  private readonly userIds: readonly string[];

  constructor(config: PresenceBridgeConfig, deps: TokenProviderDeps) {
    super(config.auth.clientId, deps);
    this.cacheFile = join(deps.storagePath, TOKEN_CACHE_FILE);
    this.userIds = config.users.map((u) => u.id.toLowerCase());
    this.app = new PublicClientApplication({
      auth: { clientId: config.auth.clientId, ...authOptions(deps.endpoints) },
      cache: { cachePlugin: fileCachePlugin(this.cacheFile, deps.logger) },
      system: { networkClient: createMsalNetworkClient(deps.http, deps.logger), loggerOptions: msalLoggerOptions(deps.logger) },
    });
  }

  private async msalAccount(): Promise<AccountInfo | undefined> {
    const accounts = await this.app.getTokenCache().getAllAccounts();
    return (
      accounts.find((a) => this.userIds.includes(a.localAccountId.toLowerCase()) || this.userIds.includes(a.username.toLowerCase())) ?? accounts[0]
    );
  }

  async account(): Promise<SignedInAccount | undefined> {
    const account = await this.msalAccount();
    return account ? accountSummary(account) : undefined;
  }

  protected async acquire(forceRefresh: boolean): Promise<string> {
    const context = { mode: 'delegated' as const, credential: 'none' as const, now: this.deps.clock.now() };
    let account: AccountInfo | undefined;
    try {
      account = await this.msalAccount();
    } catch (error) {
      throw signInError(error, context);
    }
    if (!account) {
      throw new GraphError(`nobody is signed in (no account in ${this.cacheFile})`, { code: 'SIGN_IN_REQUIRED', hint: LOGIN_HINT, retryable: false });
    }
    try {
      return this.tokenOf(await this.app.acquireTokenSilent({ account, scopes: [...this.deps.endpoints.delegatedScopes], forceRefresh }));
    } catch (error) {
      throw signInError(error, context);
    }
  }

  async login(onCode: (prompt: DeviceCodePrompt) => void, options?: { signal?: AbortSignal; timeoutSeconds?: number }): Promise<SignedInAccount> {
    const request = {
      scopes: [...this.deps.endpoints.delegatedScopes],
      timeout: options?.timeoutSeconds,
      cancel: false,
      deviceCodeCallback: (response: { userCode: string; verificationUri: string; expiresIn: number; message: string }) =>
        onCode({ userCode: response.userCode, verificationUri: response.verificationUri, expiresInSeconds: response.expiresIn, message: response.message }),
    };
    const abort = () => {
      // MSAL checks the flag before each poll.
      request.cancel = true;
    };
    options?.signal?.addEventListener('abort', abort, { once: true });
    try {
      const result = await this.app.acquireTokenByDeviceCode(request);
      if (!result?.account) {
        throw new GraphError('the sign-in service returned no account', { code: 'AUTH_FAILED', hint: 'try presence-bridge login again', retryable: false });
      }
      const cache = this.app.getTokenCache();
      for (const other of await cache.getAllAccounts()) {
        if (other.homeAccountId !== result.account.homeAccountId) await cache.removeAccount(other);
      }
      return accountSummary(result.account);
    } catch (error) {
      throw signInError(error, { mode: 'delegated', credential: 'none', now: this.deps.clock.now() });
    } finally {
      options?.signal?.removeEventListener('abort', abort);
    }
  }
}

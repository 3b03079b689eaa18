import { ConfidentialClientApplication } from '@azure/msal-node';
import type { PresenceBridgeConfig } from '../config/schema.js';
import type { MsalTokenProvider, SignedInAccount, TokenProviderDeps } from './authTypes.js';
import { BaseProvider } from './baseTokenProvider.js';
import { loadCertificateCredential } from './certificateCredential.js';
import { GraphConfigError } from './errors.js';
import { createMsalNetworkClient } from './msalNetworkClient.js';
import { authOptions, msalLoggerOptions } from './msalOptions.js';
import { signInError } from './signInError.js';
import { GraphError } from './types.js';

/** Application mode: client credentials (a secret or a certificate), no user, no cache file. */
export class ApplicationTokenProvider extends BaseProvider implements MsalTokenProvider {
  readonly mode = 'application' as const;
  readonly cacheFile = undefined;
  private readonly app: ConfidentialClientApplication;
  private readonly credential: 'secret' | 'certificate';
  /** One app token serves every user's requests: held, not looked up in MSAL's cache per request. */
  protected override readonly holdsTokens = true;

  constructor(config: PresenceBridgeConfig, deps: TokenProviderDeps) {
    super(config.auth.clientId, deps);
    const { clientSecret, certificate } = config.auth;
    if (!clientSecret && !certificate) {
      throw new GraphConfigError('auth: application mode needs auth.clientSecret or auth.certificate');
    }
    this.credential = certificate ? 'certificate' : 'secret';
    this.app = new ConfidentialClientApplication({
      auth: {
        clientId: config.auth.clientId,
        ...authOptions(deps.endpoints),
        ...(certificate ? { clientCertificate: loadCertificateCredential(certificate) } : { clientSecret }),
      },
      system: { networkClient: createMsalNetworkClient(deps.http, deps.logger), loggerOptions: msalLoggerOptions(deps.logger) },
    });
  }

  protected async acquire(forceRefresh: boolean): Promise<string> {
    try {
      const result = await this.app.acquireTokenByClientCredential({ scopes: [...this.deps.endpoints.applicationScopes], skipCache: forceRefresh });
      return this.tokenOf(result);
    } catch (error) {
      throw signInError(error, { mode: 'application', credential: this.credential, now: this.deps.clock.now() });
    }
  }

  login(): Promise<SignedInAccount> {
    return Promise.reject(
      new GraphError('login is for delegated mode', {
        code: 'AUTH_FAILED',
        hint: 'application mode signs in with the client secret or certificate by itself; set auth.mode to delegated to sign in as a user',
        retryable: false,
      }),
    );
  }

  account(): Promise<SignedInAccount | undefined> {
    return Promise.resolve(undefined);
  }
}

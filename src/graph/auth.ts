import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../files/atomicFile.js';
import {
  AuthError,
  ConfidentialClientApplication,
  InteractionRequiredAuthError,
  LogLevel,
  PublicClientApplication,
  ServerError,
  type AccountInfo,
  type AuthenticationResult,
  type Configuration,
  type ICachePlugin,
  type TokenCacheContext,
} from '@azure/msal-node';
import type { PresenceBridgeConfig } from '../config/schema.js';
import type { Clock } from '../shared/clock.js';
import { errorMessage, type Logger } from '../logger.js';
import { parseRetryAfter } from '../presence/retryDelay.js';
import type { Endpoints } from '../shared/clouds.js';
import { GraphConfigError, LOGIN_HINT, transportError } from './errors.js';
import { createMsalNetworkClient, SignInTransportError } from './msalNetworkClient.js';
import type { HttpStack } from './httpStack.js';
import { GraphError, type AccessTokenProvider } from './types.js';

/** Name of the delegated-mode token cache inside the storage folder. */
export const TOKEN_CACHE_FILE = 'presence-bridge-token-cache.json';

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

/** MSAL's own prefix: `[date] : [correlation id] : @azure/msal-node@7.2.3 : Warning - `. */
const MSAL_PREFIX = /^\[[^\]]*\] : (?:\[[^\]]*\] : )?\S+ : (?:Error|Warning|Info|Verbose|Trace) - /;

/**
 * MSAL's logger into ours: MSAL filters at Warning and drops lines that may carry personal
 * data. Its errors become our warnings; its warnings (e.g. "No client info in response" for
 * every client credentials token) are diagnostics, shown with --verbose. Our own code reports
 * every failure that matters as a GraphError with a hint.
 */
function msalLoggerOptions(logger: Logger): NonNullable<Configuration['system']>['loggerOptions'] {
  return {
    piiLoggingEnabled: false,
    logLevel: LogLevel.Warning,
    loggerCallback(level, message, containsPii) {
      if (containsPii) return;
      const text = `[msal] ${message.replace(MSAL_PREFIX, '')}`;
      if (level === LogLevel.Error) logger.warn(text);
      else logger.debug(text);
    },
  };
}

/** A hex thumbprint as Entra shows it (with or without colons or spaces), normalised. */
function normaliseThumbprint(text: string): string {
  return text.replace(/[\s:]/g, '').toUpperCase();
}

interface CertificateCredential {
  privateKey: string;
  thumbprint?: string;
  thumbprintSha256?: string;
  x5c?: string;
}

/** Reads the certificate credential's files. Exported for tests of the mismatch check. */
export function loadCertificateCredential(cert: NonNullable<PresenceBridgeConfig['auth']['certificate']>): CertificateCredential {
  let privateKey: string;
  try {
    // MSAL wants PKCS#8 (BEGIN PRIVATE KEY); keys exported as PKCS#1 (BEGIN RSA PRIVATE KEY) are converted.
    privateKey = createPrivateKey(readFileSync(cert.privateKeyFile, 'utf8')).export({ type: 'pkcs8', format: 'pem' }).toString();
  } catch (error) {
    throw new GraphConfigError(`auth.certificate.privateKeyFile: cannot read a PEM private key from ${cert.privateKeyFile}: ${errorMessage(error)}`);
  }
  const configured = normaliseThumbprint(cert.thumbprint);
  if (!/^[0-9A-F]{40}$/.test(configured) && !/^[0-9A-F]{64}$/.test(configured)) {
    throw new GraphConfigError('auth.certificate.thumbprint: expected the certificate\'s SHA-1 thumbprint, 40 hex digits');
  }
  if (!cert.certificateFile) {
    return configured.length === 64 ? { privateKey, thumbprintSha256: configured } : { privateKey, thumbprint: configured };
  }
  let pem: string;
  let x509: X509Certificate;
  try {
    pem = readFileSync(cert.certificateFile, 'utf8');
    x509 = new X509Certificate(pem);
  } catch (error) {
    throw new GraphConfigError(`auth.certificate.certificateFile: cannot read a PEM certificate from ${cert.certificateFile}: ${errorMessage(error)}`);
  }
  const sha1 = x509.fingerprint.replace(/:/g, '');
  const sha256 = x509.fingerprint256.replace(/:/g, '');
  if (configured !== sha1 && configured !== sha256) {
    throw new GraphConfigError(
      `auth.certificate.thumbprint: ${configured} is not the thumbprint of ${cert.certificateFile} (SHA-1 ${sha1}); copy it again from the app registration's Certificates & secrets`,
    );
  }
  if (!x509.checkPrivateKey(createPrivateKey(privateKey))) {
    throw new GraphConfigError(`auth.certificate.privateKeyFile: the key does not belong to the certificate in ${cert.certificateFile}`);
  }
  // With the certificate at hand MSAL can send the SHA-256 thumbprint (x5t#S256) Entra prefers.
  return { privateKey, thumbprintSha256: sha256, x5c: pem };
}

/**
 * The authority is declared known and its endpoints are given, so MSAL never asks the global
 * cloud's instance discovery (offline emulator, national clouds) nor fetches OpenID metadata.
 * The paths are the v2.0 endpoints every Entra cloud serves.
 */
function authOptions(endpoints: Endpoints): Pick<Configuration['auth'], 'authority' | 'knownAuthorities' | 'authorityMetadata'> {
  const base = endpoints.authority;
  return {
    authority: base,
    knownAuthorities: [endpoints.authorityHost],
    authorityMetadata: JSON.stringify({
      token_endpoint: `${base}/oauth2/v2.0/token`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      issuer: `${base}/v2.0`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
    }),
  };
}

/** The token cache goes through the shared state-file writer (temp name, 0600, folders 0700, rename). */
export { writeFileAtomic };

function fileCachePlugin(file: string, dir: string, logger: Logger): ICachePlugin {
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
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(file, context.tokenCache.serialize());
    },
  };
}

const SECRET_HINT = 'the client secret is wrong or expired; create a new one under Certificates & secrets in the app registration and put its Value in auth.clientSecret';
const CERT_HINT = 'the certificate was refused; upload it under Certificates & secrets in the app registration and check auth.certificate.thumbprint';
const APP_HINT = 'no application with auth.clientId was found in the tenant auth.tenantId; copy both ids from the app registration\'s Overview page';
const PUBLIC_CLIENT_HINT = 'the app does not allow the device code sign-in; in the app registration set Authentication > Allow public client flows to Yes';
const TENANT_HINT = 'the tenant auth.tenantId was not found; copy the Directory (tenant) id from the app registration\'s Overview page (and check the cloud setting)';

/**
 * Sign-in failures as GraphErrors. AADSTS numbers (MSAL's `errorNo`) are stable codes:
 * https://learn.microsoft.com/entra/identity-platform/reference-error-codes
 */
export function signInError(error: unknown, context: { mode: 'application' | 'delegated'; credential: 'secret' | 'certificate' | 'none'; now: number }): GraphError {
  if (error instanceof GraphError) return error;
  if (error instanceof SignInTransportError) {
    const retryAfterMs = parseRetryAfter(error.retryAfter, context.now);
    if (error.status === 429) {
      return new GraphError(`sign-in throttled (HTTP 429)`, { code: 'THROTTLED', status: 429, hint: 'the sign-in service is throttling requests; the bridge retries later', retryable: true, retryAfterMs, cause: error });
    }
    if (error.status !== undefined && error.status < 500) {
      return new GraphError(error.errorMessage, { code: 'UNEXPECTED', status: error.status, hint: 'something other than the sign-in service answered; check the proxy setting and auth.authorityHost', retryable: false, cause: error });
    }
    if (error.status !== undefined) {
      return new GraphError(error.errorMessage, { code: 'UNAVAILABLE', status: error.status, hint: 'the sign-in service is unavailable; the bridge retries later', retryable: true, retryAfterMs, cause: error });
    }
    return transportError(error.errorMessage, error.transportCause, 'sign-in');
  }
  const base = error instanceof AuthError ? error : undefined;
  const errorCode = base?.errorCode ?? '';
  const errorNo = error instanceof ServerError ? error.errorNo : undefined;
  const aadsts = errorNo ? ` AADSTS${errorNo}` : '';
  const summary = base ? firstSentence(base.errorMessage) : errorMessage(error);
  const message = `sign-in refused (${errorCode || 'error'}${aadsts})${summary ? `: ${summary}` : ''}`;
  const refused = (hint: string, code: 'AUTH_FAILED' | 'SIGN_IN_REQUIRED' = 'AUTH_FAILED') =>
    new GraphError(message, { code, hint, retryable: false, graphCode: errorCode || undefined, cause: error });

  if (errorNo === '7000215' || errorNo === '7000222') return refused(SECRET_HINT);
  if (errorNo === '700027' || errorNo === '700024') return refused(CERT_HINT);
  if (errorNo === '700016') return refused(APP_HINT);
  if (errorNo === '90002' || errorNo === '90023') return refused(TENANT_HINT);
  if (errorNo === '7000218' && context.mode === 'delegated') return refused(PUBLIC_CLIENT_HINT);
  if (errorNo === '65001') return refused('the app lacks consent for this permission; grant admin consent under API permissions');

  if (error instanceof InteractionRequiredAuthError || errorCode === 'invalid_grant' || errorCode === 'no_tokens_found' || errorCode === 'expired_token') {
    return context.mode === 'delegated' ? refused(LOGIN_HINT, 'SIGN_IN_REQUIRED') : refused('the sign-in service refused the grant; check auth.clientId and auth.tenantId');
  }
  switch (errorCode) {
    case 'invalid_client':
      return refused(context.credential === 'certificate' ? CERT_HINT : context.credential === 'secret' ? SECRET_HINT : APP_HINT);
    case 'unauthorized_client':
      return refused(APP_HINT);
    case 'invalid_scope':
      return refused('the Graph scope was refused; check the cloud setting and graph.baseUrl');
    case 'device_code_polling_cancelled':
      return new GraphError('sign-in cancelled', { code: 'SIGN_IN_REQUIRED', hint: LOGIN_HINT, retryable: false, cause: error });
    case 'device_code_expired':
    case 'user_timeout_reached':
      return new GraphError('the sign-in code expired before it was used', { code: 'SIGN_IN_REQUIRED', hint: LOGIN_HINT, retryable: false, cause: error });
    case 'post_request_failed': {
      // The device code poll got an error other than authorization_pending; MSAL keeps only the
      // server's OAuth error code (authorization_declined, expired_token, invalid_client…), as the message.
      const details = { retryable: false, graphCode: summary, cause: error };
      if (summary === 'invalid_client') return new GraphError(`sign-in refused (${summary})`, { ...details, code: 'AUTH_FAILED', hint: PUBLIC_CLIENT_HINT });
      if (summary === 'authorization_declined') return new GraphError('the sign-in was declined', { ...details, code: 'SIGN_IN_REQUIRED', hint: LOGIN_HINT });
      return new GraphError(`sign-in did not complete (${summary})`, { ...details, code: 'SIGN_IN_REQUIRED', hint: LOGIN_HINT });
    }
    default:
      return refused(
        context.mode === 'delegated'
          ? LOGIN_HINT
          : 'check auth.tenantId, auth.clientId and the credential against the app registration',
      );
  }
}

function firstSentence(text: string): string {
  const line = (text.split(/\r?\n/)[0] ?? '').replace(/\s*Trace ID:.*$/i, '').trim();
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

abstract class BaseProvider {
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

class ApplicationTokenProvider extends BaseProvider implements MsalTokenProvider {
  readonly mode = 'application' as const;
  readonly cacheFile = undefined;
  private readonly app: ConfidentialClientApplication;
  private readonly credential: 'secret' | 'certificate';

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

function accountSummary(account: AccountInfo): SignedInAccount {
  return { username: account.username, name: account.name, localAccountId: account.localAccountId };
}

class DelegatedTokenProvider extends BaseProvider implements MsalTokenProvider {
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
      cache: { cachePlugin: fileCachePlugin(this.cacheFile, deps.storagePath, deps.logger) },
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

/** The token provider for `auth.mode`. Throws GraphConfigError when the credential cannot be used. */
export function createTokenProvider(config: PresenceBridgeConfig, deps: TokenProviderDeps): MsalTokenProvider {
  return config.auth.mode === 'delegated' ? new DelegatedTokenProvider(config, deps) : new ApplicationTokenProvider(config, deps);
}

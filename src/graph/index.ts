import type { PresenceBridgeConfig } from '../config/schema.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../logger.js';
import { cloudWarnings } from '../config/cloudChecks.js';
import { createTokenProvider, type MsalTokenProvider } from './auth.js';
import { resolveEndpoints, type Endpoints } from './clouds.js';
import { HttpGraphPresenceClient } from './graphPresenceClient.js';
import { createHttpStack, type HttpStack } from './httpStack.js';
import type { GraphPresenceClient } from './types.js';

export interface GraphStack {
  readonly tokens: MsalTokenProvider;
  readonly client: GraphPresenceClient;
  readonly endpoints: Endpoints;
  /** The one HTTP stack (the group member reader of issue 19 uses it too). */
  readonly http: HttpStack;
  /** Closes the HTTP dispatcher (keep-alive sockets). */
  close(): Promise<void>;
}

export interface GraphStackDeps {
  readonly logger: Logger;
  readonly clock: Clock;
  /** Folder for the delegated-mode token cache (Homebridge's storage path, or `--storage`). */
  readonly storagePath: string;
  /** Where HTTPS_PROXY, NO_PROXY and NODE_EXTRA_CA_CERTS are read; process.env by default. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Everything that talks to Microsoft, wired: one HTTP stack, the token provider for
 * `auth.mode`, the presence client. Throws GraphConfigError when the config cannot work
 * (no credential, unreadable key or CA file, non-https override); makes no request.
 */
export function createGraphStack(config: PresenceBridgeConfig, deps: GraphStackDeps): GraphStack {
  const logger = deps.logger;
  const endpoints = resolveEndpoints(config);
  const http = createHttpStack({
    timeoutSeconds: config.graph.timeoutSeconds,
    proxy: config.proxy,
    caFile: config.tls.caFile,
    env: deps.env ?? process.env,
  });
  try {
    const tokens = createTokenProvider(config, { http, endpoints, logger, clock: deps.clock, storagePath: deps.storagePath });
    const client = new HttpGraphPresenceClient({ http, tokens, graphBaseUrl: endpoints.graphBaseUrl, mode: config.auth.mode, clock: deps.clock, logger, storagePath: deps.storagePath, authority: endpoints.authority });
    logger.debug(`Graph ${endpoints.graphBaseUrl}, sign-in ${endpoints.authority} (${config.auth.mode} mode), ${http.route}`);
    for (const warning of cloudWarnings(config)) logger.warn(warning);
    return { tokens, client, endpoints, http, close: () => http.close() };
  } catch (error) {
    void http.close().catch(() => undefined);
    throw error;
  }
}

export { GraphConfigError, LOGIN_HINT } from './errors.js';
export { withRetry, RetriesExhaustedError, type RetryInfo, type WithRetryOptions } from './withRetry.js';
export { GraphError, type AccessTokenProvider, type GraphPresenceClient, type UserPresence, type GraphErrorCode } from './types.js';
export { TOKEN_CACHE_FILE, type DeviceCodePrompt, type MsalTokenProvider, type SignedInAccount } from './auth.js';
export { USER_ID_CACHE_FILE, isObjectId } from './userIdResolver.js';
export { GroupMemberReader, GROUP_MEMBER_PERMISSION, GROUP_PERMISSION_HINT } from './groupMembers.js';
export { CLOUDS, resolveEndpoints, type Endpoints, type CloudName } from './clouds.js';

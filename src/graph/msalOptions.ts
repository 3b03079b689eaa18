/**
 * The MSAL configuration pieces both token providers share: its logger routed into ours, and the
 * authority given as known with its endpoints (no instance discovery).
 */
import { LogLevel, type Configuration } from '@azure/msal-node';
import type { Logger } from '../logger.js';
import type { Endpoints } from '../shared/clouds.js';

/** MSAL's own prefix: `[date] : [correlation id] : @azure/msal-node@7.2.3 : Warning - `. */
const MSAL_PREFIX = /^\[[^\]]*\] : (?:\[[^\]]*\] : )?\S+ : (?:Error|Warning|Info|Verbose|Trace) - /;

/**
 * MSAL's logger into ours: MSAL filters at Warning and drops lines that may carry personal
 * data. Its errors become our warnings; its warnings (e.g. "No client info in response" for
 * every client credentials token) are diagnostics, shown with --verbose. Our own code reports
 * every failure that matters as a GraphError with a hint.
 */
export function msalLoggerOptions(logger: Logger): NonNullable<Configuration['system']>['loggerOptions'] {
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

/**
 * The authority is declared known and its endpoints are given, so MSAL never asks the global
 * cloud's instance discovery (offline emulator, national clouds) nor fetches OpenID metadata.
 * The paths are the v2.0 endpoints every Entra cloud serves.
 */
export function authOptions(endpoints: Endpoints): Pick<Configuration['auth'], 'authority' | 'knownAuthorities' | 'authorityMetadata'> {
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

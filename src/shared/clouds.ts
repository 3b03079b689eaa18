/**
 * Where each Microsoft cloud lives, and the endpoints a config resolves to. Below the config and
 * Graph layers (issue 17): the config describes endpoints and the Graph stack calls them, and
 * neither should import the other for it.
 */
import { GraphConfigError } from './errors.js';

/** The values of the config's `cloud` option (test/graph/clouds.test.ts holds them equal to the schema's enum). */
export const CLOUD_NAMES = ['global', 'usgov', 'dod', 'china'] as const;
export type CloudName = (typeof CLOUD_NAMES)[number];

/** The part of the config the endpoints depend on. */
export interface EndpointConfig {
  readonly cloud: CloudName;
  readonly auth: { readonly tenantId: string; readonly authorityHost?: string | undefined };
  readonly graph: { readonly baseUrl?: string | undefined };
}

export interface CloudHosts {
  /** Origin of Microsoft Graph, e.g. `https://graph.microsoft.com`. */
  readonly graphOrigin: string;
  /** Origin of the Entra ID sign-in service, e.g. `https://login.microsoftonline.com`. */
  readonly authorityOrigin: string;
}

/**
 * The four clouds' hosts.
 * https://learn.microsoft.com/graph/deployments#microsoft-graph-and-graph-explorer-service-root-endpoints
 * https://learn.microsoft.com/entra/identity-platform/authentication-national-cloud#azure-ad-authentication-endpoints
 */
export const CLOUDS: Readonly<Record<CloudName, CloudHosts>> = {
  global: { graphOrigin: 'https://graph.microsoft.com', authorityOrigin: 'https://login.microsoftonline.com' },
  usgov: { graphOrigin: 'https://graph.microsoft.us', authorityOrigin: 'https://login.microsoftonline.us' },
  dod: { graphOrigin: 'https://dod-graph.microsoft.us', authorityOrigin: 'https://login.microsoftonline.us' },
  china: { graphOrigin: 'https://microsoftgraph.chinacloudapi.cn', authorityOrigin: 'https://login.chinacloudapi.cn' },
};

/** Everything the auth and Graph layers need to know about where to go. */
export interface Endpoints {
  /** Base of every Graph call, version included: `https://graph.microsoft.com/v1.0`. */
  readonly graphBaseUrl: string;
  /** Origin the Graph scopes are named after: `https://graph.microsoft.com`. */
  readonly graphOrigin: string;
  /** `https://login.microsoftonline.com` (or the override). */
  readonly authorityOrigin: string;
  /** `host[:port]` of the authority, as MSAL's `knownAuthorities` wants it. */
  readonly authorityHost: string;
  /** `https://login.microsoftonline.com/<tenant>`. */
  readonly authority: string;
  /** Scopes for client credentials (application mode). */
  readonly applicationScopes: readonly string[];
  /**
   * Scopes for device code and silent refresh (delegated mode). MSAL adds `openid profile
   * offline_access` by itself; offline_access is what yields the refresh token.
   */
  readonly delegatedScopes: readonly string[];
}

function httpsOrigin(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new GraphConfigError(`${what}: "${text}" is not a URL`);
  }
  // MSAL accepts only https authorities; Graph tokens must not travel in clear text either.
  if (url.protocol !== 'https:') throw new GraphConfigError(`${what}: must be an https:// URL, got "${text}"`);
  return url;
}

/**
 * The hosts of the configured cloud, with `auth.authorityHost` and `graph.baseUrl` overriding
 * them. A `graph.baseUrl` with no version path gets `/v1.0`.
 */
export function resolveEndpoints(config: EndpointConfig): Endpoints {
  const cloud = CLOUDS[config.cloud];
  const authorityUrl = httpsOrigin(config.auth.authorityHost ?? cloud.authorityOrigin, 'auth.authorityHost');
  const graphUrl = httpsOrigin(config.graph.baseUrl ?? cloud.graphOrigin, 'graph.baseUrl');

  const graphPath = graphUrl.pathname.replace(/\/+$/, '');
  const graphBaseUrl = `${graphUrl.origin}${/\/(v1\.0|beta)$/.test(graphPath) ? graphPath : `${graphPath}/v1.0`}`;
  const tenant = encodeURIComponent(config.auth.tenantId.trim());
  return {
    graphBaseUrl,
    graphOrigin: graphUrl.origin,
    authorityOrigin: authorityUrl.origin,
    authorityHost: authorityUrl.host,
    authority: `${authorityUrl.origin}/${tenant}`,
    applicationScopes: [`${graphUrl.origin}/.default`],
    delegatedScopes: [`${graphUrl.origin}/Presence.ReadWrite`],
  };
}

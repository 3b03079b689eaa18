/**
 * Sign-in endpoints as Entra ID serves them per tenant (v2.0):
 * https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
 * https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { EmulatorCore, DeviceCodeGrant } from './context.js';
import { findApp, findUser, GRAPH_AUDIENCE, GRAPH_RESOURCE_ID, matchesTenant, type EmulatedApp } from './directory.js';
import { safeDecode, type Reply } from './http.js';
import { base64urlJson, decodeJwt, signJwt, verifyJwtSignature, type JsonObject } from './jwt.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);
const DEVICE_CODE_LIFETIME_S = 900;
const REFRESH_TOKEN_LIFETIME_MS = 90 * 86_400_000;
/** Entra accepts client assertions up to this far off the server clock. */
const ASSERTION_SKEW_S = 300;

interface Ctx {
  readonly requestId: string;
  readonly clientRequestId?: string | undefined;
}

/** Entra's OAuth error body (as the v2.0 token endpoint answers it). */
export function aadError(core: EmulatorCore, ctx: Ctx, status: number, error: string, code: number, description: string, headers?: Record<string, string>): Reply {
  const now = core.now();
  const timestamp = new Date(now).toISOString().replace('T', ' ').slice(0, 19) + 'Z';
  const correlationId = ctx.clientRequestId ?? randomUUID();
  return {
    status,
    headers,
    body: {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${ctx.requestId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: ctx.requestId,
      correlation_id: correlationId,
      error_uri: `${core.origin}/error?code=${code}`,
    },
  };
}

function issuer(core: EmulatorCore): string {
  return `${core.origin}/${core.directory.tenantId}/v2.0`;
}

export function openIdConfiguration(core: EmulatorCore, tenant: string): JsonObject {
  const base = `${core.origin}/${tenant}`;
  const iss = tenant === 'common' || tenant === 'organizations' ? `${core.origin}/{tenantid}/v2.0` : issuer(core);
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: iss,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${core.origin}/oidc/userinfo`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'name', 'oid', 'preferred_username', 'tid', 'ver'],
    tenant_region_scope: 'EU',
    cloud_instance_name: 'presence-bridge-emulator',
    cloud_graph_host_name: new URL(core.origin).host,
    msgraph_host: new URL(core.origin).host,
    rbac_url: core.origin,
  };
}

export function jwks(core: EmulatorCore): JsonObject {
  return { keys: [{ ...core.publicJwk, kid: core.signingKid, use: 'sig', alg: 'RS256', issuer: issuer(core) }] };
}

function nowSeconds(core: EmulatorCore): number {
  return Math.floor(core.now() / 1000);
}

/** Lifetime in real seconds: with a sped-up clock, MSAL must refresh as soon in real time. */
function realSeconds(core: EmulatorCore, emulatedSeconds: number): number {
  return Math.max(1, Math.ceil(emulatedSeconds / core.timeScale));
}

function isGraphResource(core: EmulatorCore, resource: string): boolean {
  const r = resource.replace(/\/+$/, '').toLowerCase();
  return r === GRAPH_AUDIENCE || r === GRAPH_RESOURCE_ID || r === core.origin.toLowerCase() || r === 'https://graph.microsoft.com/v1.0';
}

/** `https://graph.microsoft.com/Presence.ReadWrite` → `Presence.ReadWrite`; undefined when for another resource. */
function graphScopeName(core: EmulatorCore, scope: string): string | undefined {
  if (!scope.includes('/')) return scope;
  const slash = scope.lastIndexOf('/');
  return isGraphResource(core, scope.slice(0, slash)) ? scope.slice(slash + 1) : undefined;
}

function accessToken(core: EmulatorCore, app: EmulatedApp, claims: JsonObject): { token: string; lifetime: number } {
  const now = nowSeconds(core);
  const lifetime = core.tokenLifetimeSeconds;
  const payload: JsonObject = {
    aud: GRAPH_AUDIENCE,
    iss: issuer(core),
    iat: now,
    nbf: now,
    exp: now + lifetime,
    appid: app.clientId,
    azp: app.clientId,
    app_displayname: app.displayName,
    tid: core.directory.tenantId,
    uti: randomBytes(16).toString('base64url'),
    ver: '1.0',
    ...claims,
  };
  return { token: signJwt(payload, core.signingKey, core.signingKid), lifetime };
}

export interface Principal {
  readonly appId: string;
  readonly kind: 'app' | 'user';
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  readonly userId?: string;
}

/** Validates a Graph bearer token on the emulator clock; a message for 401 when invalid. */
export function verifyAccessToken(core: EmulatorCore, authorization: string | undefined): Principal | { error: string } {
  if (!authorization || !/^bearer\s+/i.test(authorization)) return { error: 'Access token is empty.' };
  const token = authorization.replace(/^bearer\s+/i, '').trim();
  if (!token) return { error: 'Access token is empty.' };
  const jwt = decodeJwt(token);
  if (!jwt) return { error: 'IDX14100: JWT is not well formed, there are no dots (.).' };
  if (jwt.header.kid !== core.signingKid || !verifyJwtSignature(jwt, core.signingKey)) {
    return { error: 'Access token validation failure. Invalid signature.' };
  }
  const p = jwt.payload;
  if (p.aud !== GRAPH_AUDIENCE && p.aud !== GRAPH_RESOURCE_ID) return { error: 'Access token validation failure. Invalid audience.' };
  if (p.tid !== core.directory.tenantId) return { error: 'Access token validation failure. Invalid issuer.' };
  const now = core.now() / 1000;
  if (typeof p.exp !== 'number' || p.exp <= now) return { error: 'Lifetime validation failed, the token is expired.' };
  if (typeof p.nbf === 'number' && p.nbf > now) return { error: 'Lifetime validation failed, the token is not yet valid.' };
  const appId = typeof p.appid === 'string' ? p.appid : '';
  const roles = Array.isArray(p.roles) ? p.roles.filter((r): r is string => typeof r === 'string') : [];
  const scopes = typeof p.scp === 'string' ? p.scp.split(' ').filter(Boolean) : [];
  if (p.idtyp === 'user' && typeof p.oid === 'string') return { appId, kind: 'user', roles, scopes, userId: p.oid };
  return { appId, kind: 'app', roles, scopes };
}

function form(raw: Buffer): URLSearchParams {
  return new URLSearchParams(raw.toString('utf8'));
}

type ClientCheck = { app: EmulatedApp } | { reply: Reply };

/** Authenticates the client: secret (post or basic), certificate assertion, or none for public clients. */
function authenticateClient(core: EmulatorCore, ctx: Ctx, params: URLSearchParams, authorization: string | undefined, tenant: string, allowPublic: boolean): ClientCheck {
  let clientId = params.get('client_id') ?? undefined;
  let secret = params.get('client_secret') ?? undefined;
  if (authorization && /^basic\s+/i.test(authorization)) {
    const decoded = Buffer.from(authorization.replace(/^basic\s+/i, ''), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      clientId = safeDecode(decoded.slice(0, colon));
      secret = safeDecode(decoded.slice(colon + 1));
    }
  }
  const assertion = params.get('client_assertion') ?? undefined;
  const assertionType = params.get('client_assertion_type') ?? undefined;
  if (!clientId && assertion) {
    const sub = decodeJwt(assertion)?.payload.sub;
    if (typeof sub === 'string') clientId = sub;
  }
  if (!clientId) return { reply: aadError(core, ctx, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.") };
  const app = findApp(core.directory, clientId);
  if (!app) {
    return {
      reply: aadError(
        core,
        ctx,
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      ),
    };
  }
  if (secret !== undefined) {
    if (secret !== app.clientSecret) {
      return {
        reply: aadError(
          core,
          ctx,
          401,
          'invalid_client',
          7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
        ),
      };
    }
    return { app };
  }
  if (assertion !== undefined) {
    if (assertionType !== JWT_BEARER_ASSERTION) {
      return { reply: aadError(core, ctx, 400, 'invalid_request', 90014, "The request body must contain the following parameter: 'client_assertion_type'.") };
    }
    const problem = checkAssertion(core, app, assertion);
    if (problem) return { reply: aadError(core, ctx, 401, 'invalid_client', problem.code, problem.message) };
    return { app };
  }
  if (allowPublic && app.allowPublicClient) return { app };
  return { reply: aadError(core, ctx, 401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.") };
}

/** Checks a certificate client assertion; undefined when valid. */
function checkAssertion(core: EmulatorCore, app: EmulatedApp, assertion: string): { code: number; message: string } | undefined {
  const jwt = decodeJwt(assertion);
  if (!jwt) return { code: 50027, message: 'JWT token is invalid or malformed.' };
  const { header, payload } = jwt;
  const x5t = typeof header.x5t === 'string' ? Buffer.from(header.x5t, 'base64url').toString('hex').toUpperCase() : undefined;
  const x5t256 = typeof header['x5t#S256'] === 'string' ? Buffer.from(header['x5t#S256'], 'base64url').toString('hex').toUpperCase() : undefined;
  const cert = app.certificates.find((c) => (x5t !== undefined && c.thumbprint === x5t) || (x5t256 !== undefined && c.thumbprintSha256 === x5t256));
  if (!cert) {
    return { code: 700027, message: `Client assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: '${x5t256 ?? x5t ?? ''}'] Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${app.clientId}'.` };
  }
  if (!verifyJwtSignature(jwt, cert.certPem)) return { code: 700027, message: 'Client assertion failed signature validation.' };
  const tokenEndpoints = [`${core.origin}/${core.directory.tenantId}/oauth2/v2.0/token`, `${core.origin}/${core.directory.domain}/oauth2/v2.0/token`];
  const aud = typeof payload.aud === 'string' ? payload.aud.replace(/\/+$/, '') : '';
  if (!tokenEndpoints.includes(aud) && aud !== `${core.origin}/${core.directory.tenantId}/v2.0`) {
    return { code: 700212, message: `The audience '${aud}' in the client assertion is not the token endpoint of this tenant.` };
  }
  if (payload.iss !== app.clientId || payload.sub !== app.clientId) {
    return { code: 700023, message: "Client assertion audience claim does not match Realm issuer: the 'iss' and 'sub' claims must be the client id." };
  }
  // Assertions are made on the caller's wall clock, so they are checked against this machine's real clock.
  const wall = Date.now() / 1000;
  if (typeof payload.exp !== 'number' || payload.exp < wall - ASSERTION_SKEW_S || (typeof payload.nbf === 'number' && payload.nbf > wall + ASSERTION_SKEW_S)) {
    return { code: 700024, message: 'Client assertion is not within its valid time range.' };
  }
  return undefined;
}

function graphScopesFor(core: EmulatorCore, requested: string[]): { resource: string[]; oidc: string[] } | { invalid: string } {
  const resource: string[] = [];
  const oidc: string[] = [];
  for (const s of requested) {
    if (OIDC_SCOPES.has(s.toLowerCase())) {
      oidc.push(s);
      continue;
    }
    if (graphScopeName(core, s) === undefined) return { invalid: s };
    resource.push(s);
  }
  return { resource, oidc };
}

function parseScopes(params: URLSearchParams): string[] {
  return (params.get('scope') ?? '').split(/\s+/).filter(Boolean);
}

function idToken(core: EmulatorCore, clientId: string, userId: string): string {
  const user = core.directory.users.find((u) => u.id === userId);
  const now = nowSeconds(core);
  return signJwt(
    {
      aud: clientId,
      iss: issuer(core),
      iat: now,
      nbf: now,
      exp: now + 3600,
      name: user?.displayName ?? '',
      oid: userId,
      preferred_username: user?.userPrincipalName ?? '',
      sub: createHash('sha256').update(`${userId}:${clientId}`).digest('base64url').slice(0, 43),
      tid: core.directory.tenantId,
      uti: randomBytes(16).toString('base64url'),
      ver: '2.0',
    },
    core.signingKey,
    core.signingKid,
  );
}

/** Tokens for a user: access (scp), id, client_info and a refresh token when offline_access was asked. */
function delegatedTokens(core: EmulatorCore, ctx: Ctx, app: EmulatedApp, userId: string, requested: string[]): Reply {
  const parsed = graphScopesFor(core, requested);
  if ('invalid' in parsed) return aadError(core, ctx, 400, 'invalid_scope', 70011, `The provided value for the input parameter 'scope' is not valid. The scope ${parsed.invalid} is not valid.`);
  const names = parsed.resource.map((s) => graphScopeName(core, s) ?? s);
  const granted = names.some((n) => n === '.default') ? app.delegatedPermissions : names;
  const missing = granted.filter((n) => !app.delegatedPermissions.some((p) => p.toLowerCase() === n.toLowerCase()));
  if (missing.length > 0) {
    return aadError(core, ctx, 400, 'invalid_grant', 65001, `The user or administrator has not consented to use the application with ID '${app.clientId}'. Send an interactive authorization request for this user and resource.`, undefined);
  }
  const scp = app.delegatedPermissions.join(' ');
  const { token, lifetime } = accessToken(core, app, { scp, oid: userId, idtyp: 'user', sub: userId, upn: core.directory.users.find((u) => u.id === userId)?.userPrincipalName });
  const responseScopes = names.includes('.default') ? [...app.delegatedPermissions, ...parsed.oidc] : [...parsed.resource, ...parsed.oidc];
  const body: JsonObject = {
    token_type: 'Bearer',
    scope: responseScopes.join(' '),
    expires_in: realSeconds(core, lifetime),
    ext_expires_in: realSeconds(core, lifetime),
    access_token: token,
    id_token: idToken(core, app.clientId, userId),
    client_info: base64urlJson({ uid: userId, utid: core.directory.tenantId }),
  };
  if (parsed.oidc.some((s) => s.toLowerCase() === 'offline_access')) {
    const refresh = `1.${randomBytes(48).toString('base64url')}`;
    core.refreshTokens.set(refresh, { userId, clientId: app.clientId, scopes: requested, expiresAt: core.now() + REFRESH_TOKEN_LIFETIME_MS });
    core.changed();
    body.refresh_token = refresh;
  }
  return { status: 200, body };
}

export interface TokenResult {
  readonly reply: Reply;
  readonly appId?: string;
  readonly grantType?: string;
  readonly scope?: string;
}

export function tokenEndpoint(core: EmulatorCore, ctx: Ctx, tenant: string, raw: Buffer, authorization: string | undefined): TokenResult {
  const params = form(raw);
  // Entra accepts the RFC 8628 URN and the short `device_code` that MSAL sends.
  const rawGrant = params.get('grant_type') ?? undefined;
  const grantType = rawGrant === 'device_code' ? DEVICE_CODE_GRANT : rawGrant;
  const scope = params.get('scope') ?? undefined;
  const base = { grantType: rawGrant, scope, appId: params.get('client_id') ?? undefined };
  if (!matchesTenant(core.directory, tenant)) {
    return { ...base, reply: aadError(core, ctx, 400, 'invalid_request', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`) };
  }
  if (!grantType) return { ...base, reply: aadError(core, ctx, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.") };
  const known = ['client_credentials', 'refresh_token', DEVICE_CODE_GRANT];
  if (!known.includes(grantType)) return { ...base, reply: aadError(core, ctx, 400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`) };
  const client = authenticateClient(core, ctx, params, authorization, tenant, grantType !== 'client_credentials');
  if ('reply' in client) return { ...base, reply: client.reply };
  const app = client.app;
  const withApp = { ...base, appId: app.clientId };
  const requested = parseScopes(params);

  if (grantType === 'client_credentials') {
    const resourceScopes = requested.filter((s) => !OIDC_SCOPES.has(s.toLowerCase()));
    const bad = resourceScopes.find((s) => !s.endsWith('/.default'));
    if (resourceScopes.length !== 1 || bad) {
      return {
        ...withApp,
        reply: aadError(core, ctx, 400, 'invalid_scope', 1002012, `The provided value for scope ${bad ?? resourceScopes.join(' ')} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`),
      };
    }
    const resource = resourceScopes[0]!.slice(0, -'/.default'.length);
    if (!isGraphResource(core, resource)) {
      return { ...withApp, reply: aadError(core, ctx, 400, 'invalid_resource', 500011, `The resource principal named ${resource} was not found in the tenant named ${core.directory.tenantId}.`) };
    }
    const claims: JsonObject = { idtyp: 'app', oid: app.clientId, sub: app.clientId };
    if (app.permissions.length > 0) claims.roles = [...app.permissions];
    const { token, lifetime } = accessToken(core, app, claims);
    return {
      ...withApp,
      reply: { status: 200, body: { token_type: 'Bearer', expires_in: realSeconds(core, lifetime), ext_expires_in: realSeconds(core, lifetime), access_token: token } },
    };
  }

  if (grantType === DEVICE_CODE_GRANT) {
    const code = params.get('device_code') ?? '';
    const grant = core.deviceCodes.get(code);
    if (!grant || grant.clientId.toLowerCase() !== app.clientId.toLowerCase() || grant.redeemed) {
      return { ...withApp, reply: aadError(core, ctx, 400, 'invalid_grant', 70000, "The provided value for the input parameter 'device_code' is not valid.") };
    }
    if (core.now() >= grant.expiresAt) {
      return { ...withApp, reply: aadError(core, ctx, 400, 'expired_token', 70020, 'The provided value for the input parameter \'device_code\' is not valid. This device code has expired.') };
    }
    if (grant.declined) return { ...withApp, reply: aadError(core, ctx, 400, 'authorization_declined', 70019, 'The end user declined the authorization request.') };
    if (!grant.approvedUserId) {
      return { ...withApp, reply: aadError(core, ctx, 400, 'authorization_pending', 70016, 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.') };
    }
    grant.redeemed = true;
    core.deviceCodes.delete(code);
    return { ...withApp, reply: delegatedTokens(core, ctx, app, grant.approvedUserId, requested.length > 0 ? requested : grant.scopes) };
  }

  // refresh_token
  const refresh = params.get('refresh_token') ?? '';
  const grant = core.refreshTokens.get(refresh);
  if (!grant || grant.clientId.toLowerCase() !== app.clientId.toLowerCase()) {
    return { ...withApp, reply: aadError(core, ctx, 400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.') };
  }
  if (core.now() >= grant.expiresAt) {
    core.refreshTokens.delete(refresh);
    core.changed();
    return { ...withApp, reply: aadError(core, ctx, 400, 'invalid_grant', 700082, 'The refresh token has expired due to inactivity.') };
  }
  if (!core.directory.users.some((u) => u.id === grant.userId)) {
    return { ...withApp, reply: aadError(core, ctx, 400, 'invalid_grant', 50020, 'The user account no longer exists.') };
  }
  return { ...withApp, reply: delegatedTokens(core, ctx, app, grant.userId, requested.length > 0 ? requested : grant.scopes) };
}

function userCode(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  let out = '';
  for (const b of randomBytes(9)) out += alphabet[b % alphabet.length];
  return out;
}

export function deviceCodeEndpoint(core: EmulatorCore, ctx: Ctx, tenant: string, raw: Buffer): TokenResult {
  const params = form(raw);
  const scope = params.get('scope') ?? undefined;
  const clientId = params.get('client_id') ?? undefined;
  const base = { scope, appId: clientId, grantType: 'device_code_request' };
  if (!matchesTenant(core.directory, tenant)) {
    return { ...base, reply: aadError(core, ctx, 400, 'invalid_request', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`) };
  }
  if (!clientId) return { ...base, reply: aadError(core, ctx, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.") };
  const app = findApp(core.directory, clientId);
  if (!app) {
    return { ...base, reply: aadError(core, ctx, 400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`) };
  }
  const requested = parseScopes(params);
  if (requested.length === 0) return { ...base, reply: aadError(core, ctx, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.") };
  const parsed = graphScopesFor(core, requested);
  if ('invalid' in parsed) return { ...base, reply: aadError(core, ctx, 400, 'invalid_scope', 70011, `The provided value for the input parameter 'scope' is not valid. The scope ${parsed.invalid} is not valid.`) };
  let code = userCode();
  while ([...core.deviceCodes.values()].some((g) => g.userCode === code)) code = userCode();
  const grant: DeviceCodeGrant = {
    deviceCode: randomBytes(48).toString('base64url'),
    userCode: code,
    clientId: app.clientId,
    scopes: requested,
    expiresAt: core.now() + DEVICE_CODE_LIFETIME_S * 1000,
  };
  core.deviceCodes.set(grant.deviceCode, grant);
  const verificationUri = `${core.origin}/devicelogin`;
  return {
    ...base,
    appId: app.clientId,
    reply: {
      status: 200,
      body: {
        user_code: grant.userCode,
        device_code: grant.deviceCode,
        verification_uri: verificationUri,
        expires_in: realSeconds(core, DEVICE_CODE_LIFETIME_S),
        interval: core.deviceCodeIntervalSeconds,
        message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${grant.userCode} to authenticate.`,
      },
    },
  };
}

/** Approves a pending device code for a user (the user "signed in" in the browser). */
export function approveDeviceCode(core: EmulatorCore, code: string, userIdOrUpn: string): 'approved' | 'unknown-code' | 'unknown-user' | 'expired' {
  const grant = [...core.deviceCodes.values()].find((g) => g.userCode.toUpperCase() === code.trim().toUpperCase());
  if (!grant) return 'unknown-code';
  if (core.now() >= grant.expiresAt) return 'expired';
  const user = findUser(core.directory, userIdOrUpn);
  if (!user) return 'unknown-user';
  grant.approvedUserId = user.id;
  return 'approved';
}

export function declineDeviceCode(core: EmulatorCore, code: string): boolean {
  const grant = [...core.deviceCodes.values()].find((g) => g.userCode.toUpperCase() === code.trim().toUpperCase());
  if (!grant) return false;
  grant.declined = true;
  return true;
}

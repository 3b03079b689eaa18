import { describe, expect, it } from 'vitest';
import { AuthError, InteractionRequiredAuthError, ServerError } from '@azure/msal-node';
import { signInError } from '../../src/graph/signInError.js';
import { SignInTransportError } from '../../src/graph/msalNetworkClient.js';

const now = Date.UTC(2026, 0, 5, 9, 0, 0);
const app = { mode: 'application' as const, credential: 'secret' as const, now };
const cert = { mode: 'application' as const, credential: 'certificate' as const, now };
const delegated = { mode: 'delegated' as const, credential: 'none' as const, now };
const server = (code: string, errorNo: string) => new ServerError(code, 'corr', `AADSTS${errorNo}: text. Trace ID: abc`, '', errorNo, 400);

describe('sign-in failures become coded errors with a hint', () => {
  it.each([
    ['wrong secret', server('invalid_client', '7000215'), app, 'AUTH_FAILED', 'client secret is wrong or expired'],
    ['expired secret', server('invalid_client', '7000222'), app, 'AUTH_FAILED', 'client secret is wrong or expired'],
    ['unknown certificate', server('invalid_client', '700027'), cert, 'AUTH_FAILED', 'certificate was refused'],
    ['invalid_client with a certificate, no number', new ServerError('invalid_client', 'corr', 'x'), cert, 'AUTH_FAILED', 'certificate was refused'],
    ['unknown app', server('unauthorized_client', '700016'), app, 'AUTH_FAILED', 'auth.clientId'],
    ['unknown tenant', server('invalid_request', '90002'), app, 'AUTH_FAILED', 'auth.tenantId'],
    ['no consent', server('invalid_grant', '65001'), delegated, 'AUTH_FAILED', 'admin consent'],
    ['public client flows off', server('invalid_client', '7000218'), delegated, 'AUTH_FAILED', 'Allow public client flows'],
    ['bad scope', new ServerError('invalid_scope', 'corr', 'x'), app, 'AUTH_FAILED', 'graph.baseUrl'],
    ['refresh refused', new InteractionRequiredAuthError('invalid_grant', 'corr', 'x'), delegated, 'SIGN_IN_REQUIRED', 'presence-bridge login'],
    ['no tokens', new AuthError('no_tokens_found', 'corr'), delegated, 'SIGN_IN_REQUIRED', 'presence-bridge login'],
    ['code expired', new AuthError('device_code_expired', 'corr'), delegated, 'SIGN_IN_REQUIRED', 'presence-bridge login'],
    ['declined', new AuthError('post_request_failed', 'corr', 'authorization_declined'), delegated, 'SIGN_IN_REQUIRED', 'presence-bridge login'],
    ['429', new SignInTransportError('x', { status: 429, retryAfter: '3' }), app, 'THROTTLED', 'retries later'],
    ['503', new SignInTransportError('x', { status: 503 }), app, 'UNAVAILABLE', 'retries later'],
    ['proxy page', new SignInTransportError('x', { status: 407 }), app, 'UNEXPECTED', 'proxy'],
    ['refused connection', new SignInTransportError('x', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }), app, 'NETWORK', 'cannot reach sign-in'],
    ['untrusted certificate', new SignInTransportError('x', { cause: Object.assign(new Error('self-signed'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }) }), app, 'NETWORK', 'tls.caFile'],
  ] as const)('%s', (_name, error, context, code, hint) => {
    const mapped = signInError(error, context);
    expect(mapped.code).toBe(code);
    expect(mapped.hint).toContain(hint);
    expect(mapped.retryable).toBe(['THROTTLED', 'UNAVAILABLE'].includes(code) || (code === 'NETWORK' && !hint.includes('tls')));
    expect(mapped.message).not.toContain('Trace ID');
  });

  it('keeps Retry-After from the sign-in service', () => {
    expect(signInError(new SignInTransportError('x', { status: 429, retryAfter: '3' }), app).retryAfterMs).toBe(3000);
  });
});

import { AuthError, InteractionRequiredAuthError, ServerError } from '@azure/msal-node';
import { errorMessage } from '../logger.js';
import { parseRetryAfter } from '../presence/retryDelay.js';
import { LOGIN_HINT, transportError } from './errors.js';
import { SignInTransportError } from './msalNetworkClient.js';
import { GraphError } from './types.js';

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

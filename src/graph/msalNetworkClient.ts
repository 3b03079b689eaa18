import { AuthError, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';
import type { Logger } from '../logger.js';
import type { HttpRequest, HttpStack } from './httpStack.js';

/**
 * A sign-in request that did not get a usable answer: the sign-in service was unreachable, or it
 * answered 429/5xx. Thrown from the network module instead of handing MSAL the response, for two
 * reasons: MSAL would otherwise remember the failure in its own throttling cache (by wall-clock
 * time, for up to an hour) and refuse the retry our Clock schedules; and this keeps the status
 * and Retry-After so the error can be classified as retryable.
 */
export class SignInTransportError extends AuthError {
  readonly status?: number;
  readonly retryAfter?: string;
  readonly transportCause?: unknown;

  constructor(message: string, details: { status?: number; retryAfter?: string; cause?: unknown }) {
    super('network_error', '', message);
    // AuthError resets the prototype to its own; restore ours so instanceof works.
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = 'SignInTransportError';
    this.status = details.status;
    this.retryAfter = details.retryAfter;
    this.transportCause = details.cause;
  }
}

/**
 * MSAL's `system.networkClient`: every request MSAL makes (metadata, token, device code) goes
 * through the bridge's one dispatcher, so it gets the same proxy, CAs and timeouts as Graph.
 */
export function createMsalNetworkClient(http: HttpStack, logger: Logger): INetworkModule {
  async function send<T>(req: HttpRequest): Promise<NetworkResponse<T>> {
    let response;
    try {
      response = await http.send(req);
    } catch (error) {
      const origin = new URL(req.url).origin;
      throw new SignInTransportError(`cannot reach the sign-in service at ${origin}: ${describeTransportError(error)}`, { cause: error });
    }
    // Origin and path only: the query carries nothing secret, but the body of a token request does.
    const where = new URL(req.url);
    logger.debug(`sign-in ${req.method} ${where.origin}${where.pathname} -> ${response.status}`);
    if (response.status === 429 || response.status >= 500) {
      throw new SignInTransportError(`the sign-in service answered HTTP ${response.status}`, {
        status: response.status,
        retryAfter: response.headers['retry-after'],
      });
    }
    let body: T;
    try {
      body = (response.text === '' ? {} : JSON.parse(response.text)) as T;
    } catch {
      throw new SignInTransportError(`the sign-in service answered HTTP ${response.status} with a body that is not JSON`, {
        status: response.status,
      });
    }
    return { status: response.status, headers: response.headers, body };
  }

  return {
    sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
      return send<T>({ method: 'GET', url, headers: options?.headers, timeoutMs: timeout });
    },
    sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
      return send<T>({ method: 'POST', url, headers: options?.headers, body: options?.body ?? '' });
    },
  };
}

/** A transport failure in words: the error code (ECONNREFUSED, UND_ERR_CONNECT_TIMEOUT…) and message. */
export function describeTransportError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    parts.push(typeof code === 'string' ? `${code} ${current.message}` : current.message);
    current = current.cause;
  }
  if (parts.length === 0) parts.push(String(error));
  return [...new Set(parts)].join(': ');
}

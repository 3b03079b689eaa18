import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { Agent, EnvHttpProxyAgent, request, type Dispatcher } from 'undici';
import { errorMessage } from '../logger.js';
import { GraphConfigError } from './errors.js';

/**
 * The one HTTP stack of the bridge. Graph calls and MSAL's sign-in calls (through
 * {@link createMsalNetworkClient}) share one undici dispatcher, so keep-alive, timeouts, the
 * proxy and the trusted CAs are decided in one place.
 */
export interface HttpStack {
  readonly dispatcher: Dispatcher;
  /** Where requests go through, for log lines (`direct` or the proxy URL without credentials). */
  readonly route: string;
  send(request: HttpRequest): Promise<HttpResponse>;
  close(): Promise<void>;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Overall deadline for this request, on top of the dispatcher's timeouts. */
  readonly timeoutMs?: number;
}

export interface HttpResponse {
  readonly status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  readonly headers: Record<string, string>;
  readonly text: string;
}

export interface HttpStackOptions {
  readonly timeoutSeconds: number;
  /** `proxy` from the config; when unset HTTPS_PROXY/HTTP_PROXY from `env` are used. */
  readonly proxy?: string;
  /** PEM files of extra CAs (`tls.caFile`); NODE_EXTRA_CA_CERTS from `env` is added too. */
  readonly caFile?: string;
  readonly env: NodeJS.ProcessEnv;
}

function readPem(file: string, what: string): string {
  try {
    const text = readFileSync(file, 'utf8');
    if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate in it');
    return text;
  } catch (error) {
    throw new GraphConfigError(`${what}: cannot read CA certificates from ${file}: ${errorMessage(error)}`);
  }
}

/**
 * Node's default roots plus the extra CAs. Setting `ca` replaces Node's roots, so they are
 * listed explicitly; NODE_EXTRA_CA_CERTS is read by Node only at start-up and only for its
 * default context, so it is added here as well.
 */
export function trustedCas(options: { caFile?: string; env: NodeJS.ProcessEnv }): string[] | undefined {
  const extra: string[] = [];
  if (options.caFile) extra.push(readPem(options.caFile, 'tls.caFile'));
  const fromEnv = options.env.NODE_EXTRA_CA_CERTS;
  if (fromEnv) extra.push(readPem(fromEnv, 'NODE_EXTRA_CA_CERTS'));
  return extra.length === 0 ? undefined : [...rootCertificates, ...extra];
}

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name.toLowerCase()] ?? env[name.toUpperCase()];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** The proxy URL with any user:password removed, for logs. */
export function redactProxy(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(unparsable proxy URL)';
  }
}

function headerRecord(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Sockets per origin (Graph, the sign-in host): requests beyond wait in undici's queue. */
export const MAX_GRAPH_CONNECTIONS = 32;

/**
 * The TLS settings every connection of the stack uses. With extra CAs, one SecureContext is built
 * here and shared: given `ca` instead, Node builds a new context for every connection, parsing
 * all ~120 root certificates again (about 12 ms of CPU each time, on the event loop), which made
 * each new connection to Graph a stall for every signal behind it.
 */
export function tlsOptions(options: { caFile?: string; env: NodeJS.ProcessEnv }): { secureContext?: SecureContext } {
  const ca = trustedCas(options);
  return ca ? { secureContext: createSecureContext({ ca }) } : {};
}

export function createHttpStack(options: HttpStackOptions): HttpStack {
  const timeoutMs = Math.round(options.timeoutSeconds * 1000);
  const tls = tlsOptions({ caFile: options.caFile, env: options.env });
  const common = {
    // At most this many sockets per origin (undici's default is no cap): at 300 msg/s an uncapped
    // agent opened 65 TLS connections, ~50 MiB of memory outside the V8 heap (BENCHMARKS.md, issue 16 memory)
    connections: MAX_GRAPH_CONNECTIONS,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 120_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connectTimeout: timeoutMs,
    connect: { timeout: timeoutMs, ...tls },
    // Presence answers are small (650 users' presence is ~150 kB); a proxy's runaway page is not read whole.
    maxResponseSize: 8 * 1024 * 1024,
  };

  const httpsProxy = options.proxy ?? envValue(options.env, 'https_proxy');
  const httpProxy = options.proxy ?? envValue(options.env, 'http_proxy');
  let dispatcher: Dispatcher;
  let route = 'direct';
  if (httpsProxy || httpProxy) {
    for (const url of [httpsProxy, httpProxy]) {
      if (url === undefined) continue;
      try {
        new URL(url);
      } catch {
        throw new GraphConfigError(`proxy: "${redactProxy(url)}" is not a URL`);
      }
    }
    dispatcher = new EnvHttpProxyAgent({
      ...common,
      // Explicit values (never undefined) so undici does not read process.env behind our back.
      httpProxy: httpProxy ?? '',
      httpsProxy: httpsProxy ?? '',
      noProxy: envValue(options.env, 'no_proxy') ?? '',
      requestTls: { timeout: timeoutMs, ...tls },
      proxyTls: { timeout: timeoutMs, ...tls },
    });
    route = `proxy ${redactProxy(httpsProxy ?? httpProxy ?? '')}`;
  } else {
    dispatcher = new Agent(common);
  }

  let closed = false;
  return {
    dispatcher,
    route,
    async send(req: HttpRequest): Promise<HttpResponse> {
      const response = await request(req.url, {
        dispatcher,
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal: req.timeoutMs === undefined ? undefined : AbortSignal.timeout(req.timeoutMs),
      });
      const text = await response.body.text();
      return { status: response.statusCode, headers: headerRecord(response.headers), text };
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await dispatcher.close();
    },
  };
}

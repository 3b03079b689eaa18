/**
 * The HTTP part of the feature seam (issue 17): the one local server's route registry and the
 * outgoing client. Types only, in the bottom layer, so src/shared/routeTable.ts and
 * src/shared/httpClient.ts implement them without importing src/feature.ts (which sits above the
 * config schema and the bridge types). src/feature.ts re-exports every name.
 */
/** One HTTP request as a route handler sees it (body already read and size-limited). */
export interface RouteRequest {
  readonly method: string;
  /** Path without the query string, e.g. `/api/v1/users/alice`. */
  readonly path: string;
  /** Named segments of the route pattern (`/api/v1/users/:user` gives `{ user: 'alice' }`). */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** Raw body (empty string when none). */
  readonly body: string;
  readonly remoteAddress: string | undefined;
}

export interface RouteResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** A string is sent as is; anything else as JSON. Omit for no body. */
  readonly body?: unknown;
  /**
   * A long-lived event stream (server-sent events) instead of a body: the server sends `status`
   * and `headers` (with `content-type: text/event-stream` unless given), then hands the stream over.
   * Not called for HEAD.
   */
  readonly stream?: (stream: ResponseStream) => void;
}

/** The open response of a {@link RouteResponse.stream}, written frame by frame. */
export interface ResponseStream {
  /** Writes a frame; ignored once closed. */
  write(chunk: string): void;
  /** Bytes written but not yet taken by the client's socket (a client that stopped reading grows it). */
  readonly bufferedBytes: number;
  readonly closed: boolean;
  /** Ends the response (`destroy`: drop the socket at once, for a client that stopped reading). */
  close(options?: { readonly destroy?: boolean }): void;
  /** Called once when the client goes away or the stream is closed (also at server stop). */
  onClose(listener: () => void): void;
}

/** Options of {@link RouteRegistry.add}. */
export interface RouteOptions {
  readonly access?: RouteAccess;
  /** Largest request body the route reads (413 beyond); the server's default otherwise. */
  readonly maxBodyBytes?: number;
}

export type RouteHandler = (request: RouteRequest) => RouteResponse | Promise<RouteResponse>;

/** How a route is guarded by the shared server before its handler runs. */
export type RouteAccess =
  /** The server's access token is required whenever it is bound beyond loopback (and when one is set). */
  | 'token'
  /** Always open (health probes, metrics scraped from inside a cluster). */
  | 'open';

/**
 * The one local HTTP server (status page, API, health, metrics). Features register routes while
 * being created; the server owner starts listening after every feature was created.
 */
export interface RouteRegistry {
  /** `pattern` is a path with `:name` segments; method `GET`, `POST`, `PUT`, `DELETE`… Throws when taken. */
  add(method: string, pattern: string, handler: RouteHandler, options?: RouteOptions): void;
  /** For the server: which route serves a request (HEAD is served by GET routes). */
  match(method: string, path: string): RouteMatch;
}

export type RouteMatch =
  | { readonly kind: 'found'; readonly handler: RouteHandler; readonly params: Readonly<Record<string, string>>; readonly access: RouteAccess; readonly maxBodyBytes?: number }
  /** The path exists for other methods only (405 with `Allow`). */
  | { readonly kind: 'method'; readonly allowed: readonly string[] }
  | { readonly kind: 'none' };

/** An outgoing HTTP request (lights, webhooks). Implemented with undici in src/shared/httpClient.ts. */
export interface HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Abort after this long (connect + response). */
  readonly timeoutMs: number;
  /** PEM file of a CA to trust for this request, besides the system's. */
  readonly caFile?: string;
}

export interface HttpResult {
  readonly status: number;
  readonly body: string;
  /** Response headers, lower-case names; a repeated header's values joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface HttpClient {
  /** Rejects on network errors and timeouts; any HTTP status resolves. */
  request(request: HttpRequest): Promise<HttpResult>;
}


import type { RouteAccess, RouteHandler, RouteMatch, RouteOptions, RouteRegistry } from './httpTypes.js';

interface Route {
  readonly method: string;
  readonly segments: readonly string[];
  readonly handler: RouteHandler;
  readonly access: RouteAccess;
  readonly maxBodyBytes: number | undefined;
}

function segmentsOf(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/**
 * The routes features registered for the one local HTTP server. Pure: no sockets here; the server
 * asks {@link match} for each request.
 */
export class RouteTable implements RouteRegistry {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: RouteHandler, options?: RouteOptions): void {
    const upper = method.toUpperCase();
    const segments = segmentsOf(pattern);
    const key = segments.map((s) => (s.startsWith(':') ? ':' : s)).join('/');
    if (this.routes.some((r) => r.method === upper && r.segments.map((s) => (s.startsWith(':') ? ':' : s)).join('/') === key)) {
      throw new Error(`route ${upper} ${pattern} is registered twice`);
    }
    this.routes.push({ method: upper, segments, handler, access: options?.access ?? 'token', maxBodyBytes: options?.maxBodyBytes });
  }

  /** Whether any route was registered (no server is needed without one). */
  get size(): number {
    return this.routes.length;
  }

  match(method: string, path: string): RouteMatch {
    const parts = segmentsOf(path);
    const allowed: string[] = [];
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (params === null) continue;
      if (route.method === method.toUpperCase() || (route.method === 'GET' && method.toUpperCase() === 'HEAD')) {
        return { kind: 'found', handler: route.handler, params, access: route.access, ...(route.maxBodyBytes !== undefined ? { maxBodyBytes: route.maxBodyBytes } : {}) };
      }
      allowed.push(route.method);
    }
    return allowed.length > 0 ? { kind: 'method', allowed } : { kind: 'none' };
  }
}

function matchSegments(pattern: readonly string[], parts: readonly string[]): Record<string, string> | null {
  if (pattern.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i] as string;
    const got = parts[i] as string;
    if (want.startsWith(':')) {
      let value: string;
      try {
        value = decodeURIComponent(got);
      } catch {
        return null;
      }
      params[want.slice(1)] = value;
    } else if (want !== got) return null;
  }
  return params;
}

import type { Startable } from '../bridgeTypes.js';
import type { FeatureContext, FeatureDefinition } from '../feature.js';
import { ReadinessChecks } from '../shared/readiness.js';
import { registerHealthRoutes } from './health.js';
import { httpSectionSchema, type HttpSectionConfig } from './schema.js';
import { startHttpServer, type LocalHttpServer } from './server.js';

export { httpSectionSchema, type HttpSectionConfig } from './schema.js';
export { startHttpServer, accessToken, MIN_TOKEN_LENGTH, DEFAULT_MAX_BODY_BYTES, type HttpServerOptions, type LocalHttpServer } from './server.js';
export { registerHealthRoutes } from './health.js';

/**
 * The `http` feature: the one local HTTP server. Its health routes are registered when it is
 * created, like every other feature's routes; it listens when started, after every feature was
 * created, so the routes are all there (the registry lists it last).
 */
export class HttpServerFeature implements Startable {
  private server: LocalHttpServer | undefined;

  constructor(
    private readonly config: HttpSectionConfig,
    private readonly context: FeatureContext,
  ) {
    registerHealthRoutes(context.routes, context.readiness ?? new ReadinessChecks());
  }

  /** The running server (address, token), once started. */
  get listening(): LocalHttpServer | undefined {
    return this.server;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const { port, host, token } = this.config;
    this.server = await startHttpServer(this.context.routes, { port, host, logger: this.context.logger, ...(token !== undefined ? { token } : {}) });
    this.announce(this.server);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.close();
  }

  /** Says once where to open it; the configured token is never logged, a generated one once (the only way in). */
  private announce(server: LocalHttpServer): void {
    const what = this.context.routes.match('GET', '/').kind === 'found' ? 'status page' : 'HTTP server';
    const logger = this.context.logger;
    if (server.token === undefined) logger.info(`${what} at ${server.url}`);
    else if (this.config.token !== undefined) logger.info(`${what} at ${server.url} (asks for its token: open ${server.url}?token=<token> once, or send Authorization: Bearer)`);
    else logger.info(`${what} at ${server.url} (asks for a token generated for this run: open ${server.signInUrl} once, or send Authorization: Bearer ${server.token})`);
  }
}

export const httpFeature: FeatureDefinition<HttpSectionConfig> = {
  name: 'http',
  section: {
    key: 'http',
    schema: httpSectionSchema.optional(),
    title: 'Local HTTP server',
    description: 'One local HTTP server for the status page, health probes (/healthz, /readyz) and the API. Off unless set.',
  },
  form: { title: 'Local HTTP server', description: 'The status page, health probes and the local API, on one port. Off unless a port is set.', expanded: false, paths: ['http'] },
  select: (config) => config.http ?? null,
  create: (slice, context) => new HttpServerFeature(slice, context),
};

import type { Startable } from '../bridgeTypes.js';
import type { FeatureContext, FeatureDefinition } from '../feature.js';
import { errorMessage } from '../logger.js';
import { BridgeMetrics } from './bridgeMetrics.js';
import { metricsSectionSchema, type MetricsSectionConfig } from './schema.js';

export { metricsSectionSchema, type MetricsSectionConfig } from './schema.js';
export { BridgeMetrics } from './bridgeMetrics.js';

export const METRICS_PATH = '/metrics';

/**
 * The `metrics` feature (issue 19): Prometheus metrics at `GET /metrics` on the one local HTTP
 * server, from a registry of this bridge's own. The route is registered when the feature is
 * created (the server listens after every feature was created); counting starts at `start`.
 */
export class MetricsFeature implements Startable {
  readonly metrics: BridgeMetrics;

  constructor(config: MetricsSectionConfig, context: FeatureContext) {
    this.metrics = new BridgeMetrics({ events: context.events, bridge: context.bridge, instance: context.instance, processMetrics: config.processMetrics });
    const logger = context.logger;
    context.routes.add(
      'GET',
      METRICS_PATH,
      async () => {
        try {
          const { contentType, body } = await this.metrics.text();
          return { status: 200, headers: { 'content-type': contentType }, body };
        } catch (error) {
          logger.error(`metrics could not be collected: ${errorMessage(error)}`);
          return { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'metrics could not be collected\n' };
        }
      },
      { access: config.access },
    );
  }

  start(): Promise<void> {
    this.metrics.start();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.metrics.stop();
    return Promise.resolve();
  }
}

export const metricsFeature: FeatureDefinition<MetricsSectionConfig> = {
  name: 'metrics',
  section: {
    key: 'metrics',
    schema: metricsSectionSchema.optional(),
    title: 'Prometheus metrics',
    description: 'Prometheus metrics at GET /metrics on the local HTTP server: Graph requests by outcome, throttles, renew lag, users by health, input messages, dropped payloads (docs/kubernetes.md).',
  },
  form: { title: 'Prometheus metrics', description: 'GET /metrics on the local HTTP server (needs the http section).', expanded: false, paths: ['metrics'] },
  check: (config, report) => {
    if (config.metrics?.enabled && config.http === undefined) report.warning('metrics', 'metrics are served by the local HTTP server: add an http section (port) or nothing serves /metrics');
  },
  select: (config) => (config.metrics?.enabled ? config.metrics : null),
  create: (slice, context) => new MetricsFeature(slice, context),
};

import type { Startable } from '../bridgeTypes.js';
import type { FeatureContext } from '../feature.js';
import { errorMessage } from '../logger.js';
import { BridgeMetrics } from './bridgeMetrics.js';
import type { MetricsSectionConfig } from './schema.js';

export const METRICS_PATH = '/metrics';

/**
 * The `metrics` feature (issue 19): Prometheus metrics at `GET /metrics` on the one local HTTP
 * server, from a registry of this bridge's own. Its code is imported and the route registered when
 * the feature starts (src/metrics/definition.ts), before the HTTP server, which starts last.
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

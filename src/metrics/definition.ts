import { lazyStartable } from '../core/lazyStartable.js';
import type { FeatureDefinition } from '../feature.js';
import { metricsSectionSchema, type MetricsSectionConfig } from './schema.js';

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
  // prom-client and the collectors load only when the section is on (issue 16, memory)
  create: (slice, context) => lazyStartable(async () => new (await import('./metricsFeature.js')).MetricsFeature(slice, context)),
};

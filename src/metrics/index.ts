export { metricsSectionSchema, type MetricsSectionConfig } from './schema.js';
export { BridgeMetrics } from './bridgeMetrics.js';
export { METRICS_PATH, MetricsFeature } from './metricsFeature.js';
export { metricsFeature } from './definition.js';

import { z } from 'zod';

/** The `metrics` section: Prometheus metrics at `GET /metrics` on the local HTTP server. */
export const metricsSectionSchema = z
  .object({
    enabled: z.boolean().default(true).meta({ title: 'Enabled', description: 'Serve Prometheus metrics at GET /metrics on the local HTTP server (needs the http section).' }),
    access: z
      .enum(['open', 'token'])
      .default('open')
      .meta({
        title: 'Access',
        description: 'open: no token asked (a cluster scrape has none; the metrics hold counts only, no user names or presences); token: the server\'s access token is asked beyond loopback, like the status page.',
      }),
    processMetrics: z.boolean().default(false).meta({ title: 'Process metrics', description: 'Also export the Node.js process metrics (CPU, memory, event loop lag, handles) under process_ and nodejs_.' }),
  })
  .strict();

export type MetricsSectionConfig = z.output<typeof metricsSectionSchema>;

declare module '../config/schema.js' {
  interface FeatureSections {
    metrics?: MetricsSectionConfig;
  }
}

import type { FeatureContext } from '../../src/feature.js';
import { UndiciHttpClient } from '../../src/shared/httpClient.js';
import { RouteTable } from '../../src/shared/routeTable.js';

/**
 * A FeatureContext of real pieces for calling a feature's `build`/`create` directly: the given
 * logger, clock, config, bridge and events; a fresh route table, an undici client, a lone
 * instance and a storage folder nothing is written to, unless given.
 */
export function featureContext(parts: Pick<FeatureContext, 'logger' | 'clock' | 'config' | 'bridge' | 'events'> & Partial<FeatureContext>): FeatureContext {
  return {
    storagePath: '/nonexistent',
    http: new UndiciHttpClient(),
    routes: new RouteTable(),
    instance: { id: 'test', shard: { index: 0, count: 1 } },
    ...parts,
  };
}

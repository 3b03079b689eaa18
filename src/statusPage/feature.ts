import type { Startable } from '../bridgeTypes.js';
import { lazyStartable } from '../core/lazyStartable.js';
import type { FeatureContext, FeatureDefinition } from '../feature.js';
import type { DemoPageOptions, StatusPageSlice } from './types.js';

export type { DemoPageOptions, StatusPageSlice } from './types.js';

/** On whenever the `http` section is: the daemon and the plugin get the page the same way. */
export const statusPageFeature: FeatureDefinition<StatusPageSlice> = {
  name: 'statusPage',
  select: (config) => (config.http ? { name: config.name } : null),
  create: (slice, context) => lazyPage(slice, context),
};

/** The demo's page (`presence-bridge demo`): the same feature with sped-up time and buttons. */
export function demoStatusPageFeature(options: DemoPageOptions): FeatureDefinition<StatusPageSlice> {
  return { ...statusPageFeature, create: (slice, context) => lazyPage(slice, context, options) };
}

/** The page's code (routes, page text, event stream) loads when the feature starts (issue 16, memory). */
function lazyPage(slice: StatusPageSlice, context: FeatureContext, extras?: DemoPageOptions): Startable {
  return lazyStartable(async () => new (await import('./statusPageFeature.js')).StatusPageFeature(slice, context, extras));
}

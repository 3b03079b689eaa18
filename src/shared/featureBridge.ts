import type { FeatureBridge, FeatureContext } from '../feature.js';

/**
 * The bridge control and the listen-only events of a feature's context as one object, for
 * feature classes written against a bridge with `events` (MQTT, serial). Nothing of the bridge
 * itself (such as `events.emit`) leaks through: the control object has none of it.
 */
export function featureBridge(context: Pick<FeatureContext, 'bridge' | 'events'>): FeatureBridge {
  // `bridge` is the core's control object (functions only, no emit): copying it keeps every call,
  // including the optional ones (`dropped`, `setUsers`), without naming each here.
  return Object.freeze({ ...context.bridge, events: context.events });
}

import type { FeatureFactory } from '../bridgeTypes.js';
import type { FeatureDefinition, RegisteredFeature } from '../feature.js';
import { factoryFeature } from './factoryFeature.js';

/** Closes a definition over its slice type, so the registry is a plain list without `any`. */
export function defineFeature<Slice>(definition: FeatureDefinition<Slice>): RegisteredFeature {
  // Left out of the registered feature; called through `definition` below, never unbound.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const { select: _select, create: _create, gates: _gates, ...config } = definition;
  return {
    ...config,
    uses: (c) => definition.select(c) !== null,
    build: (c, context) => {
      const slice = definition.select(c);
      return slice === null || !definition.create ? null : definition.create(slice, context);
    },
    gatesFor: (c, context) => {
      const slice = definition.select(c);
      return slice === null || !definition.gates ? [] : definition.gates(slice, context);
    },
  };
}

/** Anything createBridge accepts as a feature: a registered one, a definition, or an older factory. */
export type AnyFeature = RegisteredFeature | FeatureDefinition | FeatureFactory;

export function registeredOf(feature: AnyFeature): RegisteredFeature {
  if (typeof feature === 'function') return defineFeature(factoryFeature({ name: feature.name || 'feature', factory: feature }));
  return 'build' in feature ? feature : defineFeature(feature);
}

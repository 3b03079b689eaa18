import type { PresenceBridgeConfig } from './config/schema.js';
import { createCoreBridge, type BridgeDeps, type CoreBridge } from './core/bridgeCore.js';
import { FEATURES } from './features.js';

export { SHUTDOWN_CLEAR_TIMEOUT_MS, STARTUP_GRACE_MS } from './core/bridgeCore.js';
export type { BridgeDeps, CoreBridge, GraphStack } from './core/bridgeCore.js';

/**
 * The bridge the daemon, the plugin and the fleet run: the core (src/core/bridgeCore.ts) with the
 * registry's features (src/features.ts) unless `deps.features` names others. The core never
 * imports the registry; this host-level wrapper hands it down.
 */
export function createBridge(config: PresenceBridgeConfig, deps: BridgeDeps): CoreBridge {
  return createCoreBridge(config, { ...deps, features: deps.features ?? FEATURES, registry: deps.registry ?? FEATURES });
}

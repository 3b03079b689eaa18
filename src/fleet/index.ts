/**
 * The fleet of issue 19, wired: one Graph stack shared by the group reader and every bridge the
 * runner makes, this shard's storage folder, and the runner. The daemon (`run`) and the tests use
 * this same path.
 */
import { mkdir } from 'node:fs/promises';
import { createBridge, type CoreBridge } from '../bridge.js';
import type { PresenceBridgeConfig } from '../config/schema.js';
import { createGraphStack } from '../graph/index.js';
import { GroupMemberReader } from '../graph/groupMembers.js';
import { GraphError } from '../graph/types.js';
import type { GroupMember } from './userKeys.js';
import { errorMessage, prefixedLogger, type Logger } from '../logger.js';
import type { Clock } from '../shared/clock.js';
import { shardAuthOf } from './plan.js';
import { FleetRunner } from './runner.js';
import { shardStoragePath, type Shard } from './shard.js';

export { FleetRunner } from './runner.js';
export { resolveShard, parseShard, shardOf, owns, shardStoragePath, type Shard } from './shard.js';
export { planFleet } from './plan.js';
export { expandInputs, withExpandedInputs, isTemplate } from './inputTemplates.js';

export interface FleetDeps {
  readonly logger: Logger;
  readonly clock: Clock;
  /** The storage folder; a shard of several uses its own subfolder of it. */
  readonly storagePath: string;
  readonly shard: Shard;
  readonly configFile?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly onBridge?: (bridge: CoreBridge) => Promise<void>;
  /** `$top` of the member pages (tests page with a small one). */
  readonly memberPageSize?: number;
}

export interface Fleet {
  readonly runner: FleetRunner;
  readonly storagePath: string;
  /** Reads the groups and starts the first bridge. */
  start(): Promise<CoreBridge>;
  /** Stops the bridge (as `onShutdown` says) and closes the Graph stack. */
  stop(): Promise<void>;
}

/** Tries after a request of a group read got no answer at all (a connection reset), before the read fails. */
export const GROUP_READ_NETWORK_RETRIES = 2;

/**
 * A group read again from its first page when a request got no answer (a keep-alive connection
 * the server had just closed, a restarting proxy): at start a failed read stops the instance.
 * HTTP errors (403, 503, …) are not retried here.
 */
async function readAgainOnReset(read: () => Promise<GroupMember[]>, logger: Logger): Promise<GroupMember[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof GraphError) || error.code !== 'NETWORK' || !error.retryable || attempt >= GROUP_READ_NETWORK_RETRIES) throw error;
      logger.warn(`${error.message}; reading the group again`);
    }
  }
}

export async function createFleet(config: PresenceBridgeConfig, deps: FleetDeps): Promise<Fleet> {
  const storagePath = shardStoragePath(deps.storagePath, deps.shard);
  await mkdir(storagePath, { recursive: true, mode: 0o700 });
  // the group reader and every bridge share this stack: it signs in as this shard's app (fleet.shardAuth)
  const graph = createGraphStack({ ...config, auth: shardAuthOf(config, deps.shard) }, { logger: prefixedLogger(deps.logger, '[graph]'), clock: deps.clock, storagePath, ...(deps.env ? { env: deps.env } : {}) });
  const reader = new GroupMemberReader({
    http: graph.http,
    tokens: graph.tokens,
    graphBaseUrl: graph.endpoints.graphBaseUrl,
    logger: prefixedLogger(deps.logger, '[groups]'),
    now: () => deps.clock.now(),
    ...(deps.memberPageSize !== undefined ? { pageSize: deps.memberPageSize } : {}),
  });
  // BridgeDeps.instance: features see which shard they run in (src/feature.ts)
  const instance = { id: deps.shard.count > 1 ? `${config.name} ${deps.shard.index}/${deps.shard.count}` : config.name, shard: { index: deps.shard.index, count: deps.shard.count } };
  const runner = new FleetRunner({
    config,
    shard: deps.shard,
    logger: prefixedLogger(deps.logger, '[fleet]'),
    clock: deps.clock,
    readMembers: (groupId) => readAgainOnReset(() => reader.read(groupId), prefixedLogger(deps.logger, '[groups]')),
    createBridge: (c) => createBridge(c, { logger: deps.logger, clock: deps.clock, storagePath, graph, instance, ...(deps.configFile ? { configFile: deps.configFile } : {}) }),
    ...(deps.onBridge ? { onBridge: deps.onBridge } : {}),
  });
  return {
    runner,
    storagePath,
    start: () => runner.start(),
    stop: async () => {
      try {
        await runner.stop();
      } finally {
        await graph.close().catch((error: unknown) => deps.logger.error(`closing Graph client failed: ${errorMessage(error)}`));
      }
    },
  };
}

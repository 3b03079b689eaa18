import type { API, Categories, DynamicPlatformPlugin, Logging, PlatformAccessory, PlatformConfig } from 'homebridge';
import { watch, type FSWatcher } from 'node:fs';
import { createBridge, type CoreBridge } from '../bridge.js';
import { createFleet, isTemplate, parseShard, type Fleet } from '../fleet/index.js';
import type { Bridge } from '../bridgeTypes.js';
import type { PresenceBridgeConfig } from '../config/schema.js';
import { resolveConfigPaths } from '../config/load.js';
import { validateConfig } from '../configuration.js';
import { TOKEN_CACHE_FILE } from '../graph/index.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import type { PresencePair } from '../presence/presencePair.js';
import { parseSessionPair } from '../presence/presencePair.js';
import type { Clock } from '../shared/clock.js';
import { systemClock } from '../shared/clock.js';
import { homebridgeLogger } from './homebridgeLogger.js';
import { StateFileWriter } from './stateFile.js';
import { UserAccessory, accessorySeed } from './userAccessory.js';

export const PLUGIN_NAME = 'homebridge-presence-bridge';
export const PLATFORM_NAME = 'PresenceBridge';

/** Keys Homebridge itself puts in a platform block (child bridge settings), not ours to validate. */
const HOMEBRIDGE_KEYS = ['_bridge'] as const;

/**
 * Read-back failures that mean sign-in is refused: the sensors show a fault even before anything
 * is switched. A read-back refused for want of a read permission (FORBIDDEN) is not one: setting
 * presence still works, and the sensor falls back to what Graph confirmed.
 */
const READ_BACK_REFUSALS = new Set(['SIGN_IN_REQUIRED', 'AUTH_FAILED', 'UNAUTHORIZED']);

/** Error codes a new sign-in can cure. */
const SIGN_IN_CODES = new Set(['SIGN_IN_REQUIRED', 'AUTH_FAILED', 'UNAUTHORIZED']);

/** HAP's accessory category "switch" (a const enum in HAP's typings, so spelled as its value). */
const CATEGORY_SWITCH = 8 as Categories;

function withoutHomebridgeKeys(raw: PlatformConfig): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...raw };
  for (const key of HOMEBRIDGE_KEYS) delete copy[key];
  return copy;
}

/**
 * The Homebridge dynamic platform: validates the config (inert on errors), builds the bridge
 * core on `didFinishLaunching`, keeps one accessory per user and stops the bridge on `shutdown`.
 * Works the same in the main bridge and as a child bridge.
 */
export class PresenceBridgePlatform implements DynamicPlatformPlugin {
  private readonly logger: Logger;
  private readonly clock: Clock = systemClock;
  private readonly cached = new Map<string, PlatformAccessory>();
  private readonly users = new Map<string, UserAccessory>();
  private readonly config: PresenceBridgeConfig | null;
  private bridge: CoreBridge | null = null;
  /** Set when the config names `userGroups` or input templates: the daemon's fleet runner, one instance. */
  private fleet: Fleet | null = null;
  private shutDown = false;
  private stateWriter: StateFileWriter | null = null;
  private signInWatcher: FSWatcher | null = null;

  constructor(
    log: Logging,
    rawConfig: PlatformConfig,
    private readonly api: API,
  ) {
    this.logger = homebridgeLogger(log);
    const config = this.validate(rawConfig);
    // Relative file options (CA, certificate, key) start at Homebridge's storage folder, where
    // config.json is, as they start at the config file's folder for presence-bridge run.
    this.config = config && this.oneInstance(config) ? resolveConfigPaths(config, api.user.storagePath()) : null;
    if (!this.config) {
      // Inert: cached accessories stay (a typo must not delete HomeKit rooms and automations),
      // their sensors show a fault so the Home app says something is wrong.
      api.on('didFinishLaunching', () => {
        this.markCachedFaulty();
      });
      return;
    }

    api.on('didFinishLaunching', () => {
      try {
        this.launch();
      } catch (error) {
        this.logger.error(`starting failed: ${errorMessage(error)}`);
      }
    });
    api.on('shutdown', () => {
      this.shutdown();
    });
  }

  /** Homebridge hands back each accessory it restored from its cache before didFinishLaunching. */
  configureAccessory(accessory: PlatformAccessory): void {
    this.cached.set(accessory.UUID, accessory);
  }

  private markCachedFaulty(): void {
    try {
      const { Characteristic: C } = this.api.hap;
      for (const accessory of this.cached.values()) {
        for (const service of accessory.services) {
          if (service.testCharacteristic(C.StatusFault)) service.updateCharacteristic(C.StatusFault, C.StatusFault.GENERAL_FAULT);
        }
      }
    } catch (error) {
      this.logger.error(`could not flag the accessories: ${errorMessage(error)}`);
    }
  }

  private validate(rawConfig: PlatformConfig): PresenceBridgeConfig | null {
    try {
      const result = validateConfig(withoutHomebridgeKeys(rawConfig));
      if (result.ok) return result.config;
      this.logger.error(`the configuration has ${result.errors.length} error(s); Presence Bridge stays inactive until they are fixed:`);
      for (const error of result.errors) this.logger.error(`  ${error}`);
    } catch (error) {
      this.logger.error(`the configuration could not be checked: ${errorMessage(error)}; Presence Bridge stays inactive`);
    }
    return null;
  }

  /**
   * The plugin is one instance serving every user: `userGroups` and input templates run through the
   * daemon's fleet runner, but shards (`fleet.shard`, `fleet.shardCount` > 1) need one process per
   * shard (`presence-bridge run`), so such a config leaves the plugin inactive, saying so.
   */
  private oneInstance(config: PresenceBridgeConfig): boolean {
    const fleet = config.fleet;
    let count = fleet?.shardCount ?? 1;
    try {
      if (fleet?.shard !== undefined) count = Math.max(count, parseShard(fleet.shard).count);
    } catch (error) {
      this.logger.error(`fleet.shard: ${errorMessage(error)}; Presence Bridge stays inactive`);
      return false;
    }
    if (count > 1) {
      this.logger.error(
        `fleet.shard / fleet.shardCount: shards are not supported in the Homebridge plugin, which runs one instance for all users; remove the fleet section here, or run each shard with presence-bridge run (docs/fleet.md). Presence Bridge stays inactive`,
      );
      return false;
    }
    if (fleet?.shardAuth !== undefined) this.logger.warn('fleet.shardAuth is not used: the plugin runs one instance, which signs in with auth');
    return true;
  }

  private launch(): void {
    const config = this.config;
    if (!config) return;
    const storagePath = this.api.user.storagePath();
    this.stateWriter = new StateFileWriter(storagePath, this.logger);
    if ((config.userGroups ?? []).length > 0 || config.inputs.some(isTemplate)) {
      this.launchFleet(config, storagePath);
      return;
    }

    try {
      this.bridge = createBridge(config, { logger: this.logger, clock: this.clock, storagePath, configFile: this.api.user.configPath() });
    } catch (error) {
      this.logger.error(`the bridge could not be built: ${errorMessage(error)}`);
      this.bridge = null;
    }

    this.syncAccessories(config);

    const bridge = this.bridge;
    if (!bridge) {
      for (const user of this.users.values()) user.markFault();
      return;
    }
    this.attach(bridge, config, storagePath);
    bridge.start().catch((error: unknown) => {
      this.logger.error(`the bridge could not start: ${errorMessage(error)}`);
      for (const user of this.users.values()) user.markFault();
    });
  }

  /**
   * Users from `userGroups` (read from Graph first) and input templates: the fleet runner of
   * `presence-bridge run`, as shard 0 of 1. Accessories follow the members: a joiner gets one at
   * the refresh that brings them in, a leaver's is removed.
   */
  private launchFleet(config: PresenceBridgeConfig, storagePath: string): void {
    const run = async (): Promise<void> => {
      const fleet = await createFleet(config, { logger: this.logger, clock: this.clock, storagePath, shard: { index: 0, count: 1 }, configFile: this.api.user.configPath() });
      if (this.shutDown) return;
      this.fleet = fleet;
      const bridge = await fleet.start();
      if (this.shutDown) {
        // Homebridge shut down while the groups were read: shutdown() found no bridge to stop
        await fleet.stop();
        return;
      }
      this.bridge = bridge;
      this.syncAccessories(bridge.config);
      this.attach(bridge, config, storagePath);
      bridge.events.on('served', (change) => {
        this.syncAccessories({ ...config, users: [...change.users] });
        for (const user of change.users) {
          const state = bridge.state(user.key);
          if (state) this.users.get(user.key)?.update(state);
        }
      });
    };
    run().catch((error: unknown) => {
      this.logger.error(`the bridge could not start: ${errorMessage(error)}`);
      for (const user of this.users.values()) user.markFault();
      this.markCachedFaulty();
    });
  }

  /** The accessories follow the bridge's events; the state file and the sign-in watch start. */
  private attach(bridge: CoreBridge, config: PresenceBridgeConfig, storagePath: string): void {
    bridge.events.on('state', (state) => {
      this.users.get(state.userKey)?.update(state);
      this.writeState(bridge);
    });
    bridge.events.on('intents', (event) => this.users.get(event.userKey)?.showIntents(event.intents));
    let readBackRefused = false;
    bridge.events.on('graphCall', (call) => {
      if (call.operation !== 'getPresences') return;
      const refused = !call.ok && READ_BACK_REFUSALS.has(call.errorCode ?? '');
      if (refused === readBackRefused) return;
      readBackRefused = refused;
      for (const user of this.users.values()) user.setReadBackRefused(refused);
    });
    for (const state of bridge.states()) this.users.get(state.userKey)?.update(state);
    this.writeState(bridge);

    if (config.auth.mode === 'delegated') this.watchSignIn(storagePath, bridge);
  }

  /**
   * A sign-in from the settings page (or `presence-bridge login`) rewrites the token cache; users
   * held back because sign-in was refused are retried at once instead of at the next restart.
   * Only then: the plugin's own token refreshes also rewrite the file, and must not cut short a
   * backoff Graph asked for.
   */
  private watchSignIn(storagePath: string, bridge: CoreBridge): void {
    try {
      let timer: NodeJS.Timeout | undefined;
      const watcher = watch(storagePath, (_event, filename) => {
        if (filename !== TOKEN_CACHE_FILE) return;
        clearTimeout(timer);
        timer = setTimeout(() => {
          const refused = bridge.states().some((s) => s.health === 'unhealthy' && SIGN_IN_CODES.has(s.lastError?.code ?? ''));
          if (!refused || this.bridge !== bridge) return;
          this.logger.info('new sign-in found; trying again');
          bridge.retryAll();
        }, 500);
        timer.unref();
      });
      watcher.on('error', (error) => this.logger.warn(`watching for a new sign-in stopped: ${errorMessage(error)}`));
      watcher.unref();
      this.signInWatcher = watcher;
    } catch (error) {
      this.logger.warn(`cannot watch for a new sign-in (restart after signing in): ${errorMessage(error)}`);
    }
  }

  /** One accessory per configured user; cached ones reused, stale ones removed. */
  private syncAccessories(config: PresenceBridgeConfig): void {
    const { api } = this;
    const switches = this.switchPairs(config);
    const wanted = new Set<string>();
    const added: PlatformAccessory[] = [];

    for (const user of config.users) {
      const uuid = api.hap.uuid.generate(accessorySeed(user.key));
      wanted.add(uuid);
      const name = user.name ?? user.key;
      let accessory = this.cached.get(uuid);
      if (!accessory) {
        accessory = new api.platformAccessory(name, uuid, CATEGORY_SWITCH);
        added.push(accessory);
        this.cached.set(uuid, accessory);
      } else if (accessory.displayName !== name) {
        accessory.displayName = name;
      }
      // a user already shown keeps their accessory object (a fleet refresh syncs again)
      if (this.users.has(user.key)) continue;
      // Merged: the accessory keeps what it recorded there (the names the config gave its services).
      accessory.context = { ...(accessory.context as Record<string, unknown>), userKey: user.key };
      this.users.set(
        user.key,
        new UserAccessory({
          api,
          accessory,
          user,
          switches,
          sensor: config.homekit.sensor,
          statusSensors: config.homekit.statusSensors,
          logger: this.logger,
          clock: this.clock,
          bridge: () => this.bridge,
        }),
      );
    }

    const keys = new Set(config.users.map((u) => u.key));
    for (const key of [...this.users.keys()]) if (!keys.has(key)) this.users.delete(key);
    const stale = [...this.cached.values()].filter((accessory) => !wanted.has(accessory.UUID));
    if (stale.length > 0) {
      this.logger.info(`removing ${stale.length} accessory(ies) of users no longer configured: ${stale.map((a) => a.displayName).join(', ')}`);
      api.unregisterPlatformAccessories(PLUGIN_NAME, PLATFORM_NAME, stale);
      for (const accessory of stale) this.cached.delete(accessory.UUID);
    }
    if (added.length > 0) {
      this.logger.info(`adding ${added.length} accessory(ies): ${added.map((a) => a.displayName).join(', ')}`);
      api.registerPlatformAccessories(PLUGIN_NAME, PLATFORM_NAME, added);
    }
    const restored = [...this.cached.values()].filter((a) => !added.includes(a));
    if (restored.length > 0) api.updatePlatformAccessories(restored);
  }

  private switchPairs(config: PresenceBridgeConfig): PresencePair[] {
    const pairs: PresencePair[] = [];
    for (const text of config.homekit.switches) {
      const pair = parseSessionPair(text);
      if (!pair) {
        this.logger.warn(`homekit.switches: "${text}" is not a presence setPresence accepts; no switch for it`);
        continue;
      }
      if (!pairs.some((p) => p.availability === pair.availability && p.activity === pair.activity)) pairs.push(pair);
    }
    return pairs;
  }

  private writeState(bridge: Bridge): void {
    try {
      this.stateWriter?.write(() => ({ writtenAt: this.clock.now(), users: bridge.states() }));
    } catch (error) {
      this.logger.warn(`could not record state: ${errorMessage(error)}`);
    }
  }

  private shutdown(): void {
    this.shutDown = true;
    this.signInWatcher?.close();
    this.signInWatcher = null;
    const bridge = this.bridge;
    this.bridge = null;
    const fleet = this.fleet;
    this.fleet = null;
    if (fleet) {
      // the fleet stops its bridge (as onShutdown says) and closes its Graph stack
      fleet.stop().then(
        () => this.logger.info('stopped'),
        (error: unknown) => this.logger.error(`stopping failed: ${errorMessage(error)}`),
      );
      return;
    }
    if (!bridge) return;
    // Homebridge gives plugins a few seconds after 'shutdown' before it exits; stop() honours
    // onShutdown (clear every asserted session, or keep them running).
    bridge.stop().then(
      () => this.logger.info('stopped'),
      (error: unknown) => this.logger.error(`stopping failed: ${errorMessage(error)}`),
    );
  }
}

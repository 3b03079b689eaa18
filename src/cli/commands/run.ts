import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CoreBridge } from '../../bridge.js';
import { createBridge } from '../../bridge.js';
import type { PresenceBridgeConfig } from '../../config/schema.js';
import { loadConfigFile } from '../../configuration.js';
import type { Logger } from '../../logger.js';
import { errorMessage } from '../../logger.js';
import type { Clock } from '../../shared/clock.js';
import { systemClock } from '../../shared/clock.js';
import type { CliCommand, CliIo } from '../command.js';
import { EXIT } from '../command.js';
import { createConsoleLogger, parseLogLevel } from '../consoleLogger.js';
import { defaultStoragePath } from '../shared.js';
import { hostname } from 'node:os';
import { createFleet, isTemplate, resolveShard, type Shard } from '../../fleet/index.js';

/** What `run` hands to an add-on once the bridge is up. */
export interface RunContext {
  readonly bridge: CoreBridge;
  readonly config: PresenceBridgeConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly storagePath: string;
  /** Set when `--http PORT` was given (it fills the config's `http` section); `token` from PRESENCE_BRIDGE_HTTP_TOKEN when set. */
  readonly http?: { readonly port: number; readonly host: string; readonly token?: string };
}

export interface RunHooks {
  /** Called after the bridge started; what it returns is stopped before the bridge. */
  readonly onStarted?: (context: RunContext) => Promise<{ stop(): Promise<void> } | undefined>;
}

const HELP = `Usage: presence-bridge run --config FILE [--storage DIR] [--http PORT] [--http-host HOST] [--shard I/N] [--debug]

Runs the bridge: reads the config, signs in to Microsoft Graph, holds each user's presence
from the configured inputs, and clears it on exit (onShutdown: clear). Stops on Ctrl-C or SIGTERM.

Options:
  --config FILE     The PresenceBridge platform block, or a whole Homebridge config.json.
  --storage DIR     Folder for the token cache and state (default ~/.presence-bridge, the
                    folder login, set, clear, prefer and status use too).
  --http PORT       Serve the local HTTP server (status page, /healthz, /readyz, API) on this
                    port; fills the config's "http" section (these flags win over it).
  --http-host HOST  Address the server listens on (default 127.0.0.1). Beyond loopback
                    (0.0.0.0, a LAN address) the page asks for a token: the one in
                    PRESENCE_BRIDGE_HTTP_TOKEN (16 characters or more; it also sets the
                    token of an "http" section in the config), or one generated at start,
                    printed as an address to open once (it sets a cookie).
  --shard I/N       Run shard I of N (0-based): only the users whose id hashes to I, with
                    1/N of graph.maxRequestsPer30s and state in DIR/shard-I-of-N. Overrides
                    fleet.shard; unset, a StatefulSet pod takes I from its hostname (name-2)
                    when fleet.shardCount or PRESENCE_BRIDGE_SHARDS gives N (docs/fleet.md).
  --debug           Log every Graph call and signal (or set PRESENCE_BRIDGE_LOG_LEVEL=debug).

Memory: the command relaunches itself once, in place, with --max-semi-space-size=1
--optimize-for-size and MALLOC_ARENA_MAX=2. PRESENCE_BRIDGE_NODE_OPTIONS replaces the Node flags (empty: Node's
defaults, no relaunch); heap flags already in NODE_OPTIONS are left alone.

Exit codes: 0 stopped cleanly, 1 failed to start, 2 bad usage or config.
`;

function fail(io: CliIo, message: string): number {
  io.stderr.write(`presence-bridge run: ${message}\n\n${HELP}`);
  return EXIT.usage;
}

/** Groups, shards and input templates run through the fleet runner (src/fleet/). */
function needsFleet(config: PresenceBridgeConfig, shard: Shard): boolean {
  return (config.userGroups ?? []).length > 0 || shard.count > 1 || config.inputs.some(isTemplate);
}

/** Stops `part` (when there is one); a failure is logged as `<what> failed: …`, never thrown. */
async function stopLogged(part: { stop(): Promise<void> } | undefined, what: string, logger: Logger): Promise<void> {
  try {
    await part?.stop();
  } catch (error) {
    logger.error(`${what} failed: ${errorMessage(error)}`);
  }
}

interface RunParams {
  readonly config: PresenceBridgeConfig;
  readonly file: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly storagePath: string;
  readonly io: CliIo;
  readonly hooks: RunHooks;
  readonly http?: RunContext['http'];
}

/** What `run` starts and stops: one bridge, or a fleet instance (whose runner owns its bridge). */
interface RunPart {
  start(): Promise<CoreBridge>;
  stop(): Promise<void>;
}

/** Starts `part`, runs add-ons beside its bridge, waits for the interrupt, stops everything. */
async function runUntilInterrupted(p: RunParams, part: RunPart): Promise<number> {
  const { logger } = p;
  let addOn: { stop(): Promise<void> } | undefined;
  let code: number = EXIT.ok;
  try {
    const bridge = await part.start();
    if (p.hooks.onStarted) addOn = await p.hooks.onStarted({ bridge, config: bridge.config, logger, clock: p.clock, storagePath: p.storagePath, ...(p.http ? { http: p.http } : {}) });
    logger.info(`running with config ${p.file}; Ctrl-C to stop`);
    await p.io.interrupted;
    logger.info('stopping');
  } catch (error) {
    logger.error(`failed to start: ${errorMessage(error)}`);
    code = EXIT.failure;
  } finally {
    await stopLogged(addOn, 'stopping an add-on', logger);
    await stopLogged(part, 'stopping', logger);
  }
  if (code === EXIT.ok) logger.info('stopped');
  return code;
}

/** A fleet instance: the runner reads the groups, starts this shard's bridge and applies group changes to it. */
function fleetPart(p: RunParams, shard: Shard & { from: string }): RunPart {
  let fleet: Awaited<ReturnType<typeof createFleet>> | undefined;
  return {
    async start() {
      p.logger.info(`shard ${shard.index}/${shard.count} (from ${shard.from})`);
      fleet = await createFleet(p.config, { logger: p.logger, clock: p.clock, storagePath: p.storagePath, shard, configFile: p.file, env: p.io.env });
      return fleet.start();
    },
    stop: async () => fleet?.stop(),
  };
}

/** One bridge for the configured users. */
function bridgePart(p: RunParams): RunPart {
  const bridge = createBridge(p.config, { logger: p.logger, clock: p.clock, storagePath: p.storagePath, configFile: p.file });
  return {
    async start() {
      await bridge.start();
      return bridge;
    },
    stop: () => bridge.stop(),
  };
}

interface RunArgs {
  readonly values: { config: string; storage?: string; shard?: string; debug?: boolean };
  readonly http?: { port: number; host: string; token?: string };
}

/** The flags of `run`, checked; an exit code when they are wrong (the message already written). */
function parseRunArgs(args: readonly string[], io: CliIo): RunArgs | number {
  let values: { config?: string; storage?: string; http?: string; 'http-host'?: string; shard?: string; debug?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        config: { type: 'string' },
        storage: { type: 'string' },
        http: { type: 'string' },
        'http-host': { type: 'string' },
        shard: { type: 'string' },
        debug: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return fail(io, errorMessage(error));
  }
  if (!values.config) return fail(io, '--config FILE is required');
  const rest = { config: values.config, ...(values.storage !== undefined ? { storage: values.storage } : {}), ...(values.shard !== undefined ? { shard: values.shard } : {}), ...(values.debug !== undefined ? { debug: values.debug } : {}) };
  if (values.http === undefined) return values['http-host'] !== undefined ? fail(io, '--http-host needs --http PORT') : { values: rest };
  const port = Number(values.http);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) return fail(io, `--http needs a port number, got "${values.http}"`);
  const token = io.env.PRESENCE_BRIDGE_HTTP_TOKEN;
  if (token !== undefined && token.length < 16) return fail(io, 'PRESENCE_BRIDGE_HTTP_TOKEN must be at least 16 characters');
  return { values: rest, http: { port, host: values['http-host'] ?? '127.0.0.1', ...(token !== undefined ? { token } : {}) } };
}

/** The `run` command; `hooks` let the status page (and any later add-on) start beside the bridge. */
export function createRunCommand(hooks: RunHooks = {}): CliCommand {
  return {
    name: 'run',
    summary: 'Run the bridge in the foreground (the standalone daemon).',
    help: HELP,
    async run(args, io) {
      const parsed = parseRunArgs(args, io);
      if (typeof parsed === 'number') return parsed;
      const { values, http } = parsed;
      const file = resolve(io.cwd, values.config);
      const loaded = await loadConfigFile(file);
      if (!loaded.ok) {
        io.stderr.write(`presence-bridge run: ${file} is not a valid config:\n${loaded.errors.map((e) => `  ${e}\n`).join('')}`);
        return EXIT.usage;
      }
      const envToken = io.env.PRESENCE_BRIDGE_HTTP_TOKEN;
      if (envToken !== undefined && envToken.length < 16 && loaded.config.http) return fail(io, 'PRESENCE_BRIDGE_HTTP_TOKEN must be at least 16 characters');
      const level = values.debug ? 'debug' : (parseLogLevel(io.env.PRESENCE_BRIDGE_LOG_LEVEL) ?? 'info');
      const logger = createConsoleLogger({ stream: io.stdout, level, env: io.env });
      // One default for every command, so `login` then `run` find the same sign-in; the home
      // folder is writable even when the config lives in /etc.
      const storagePath = values.storage !== undefined ? resolve(io.cwd, values.storage) : defaultStoragePath(io.env);
      try {
        await mkdir(storagePath, { recursive: true, mode: 0o700 });
      } catch (error) {
        logger.error(`cannot use storage folder ${storagePath}: ${errorMessage(error)}`);
        return EXIT.failure;
      }
      let shard: Shard & { from: string };
      try {
        shard = resolveShard({ flag: values.shard, config: loaded.config.fleet?.shard, shardCount: loaded.config.fleet?.shardCount, hostname: hostname(), env: io.env });
      } catch (error) {
        return fail(io, errorMessage(error));
      }
      // The bridge's own timers are unref'd; this keeps the daemon alive until it is told to stop.
      const keepAlive = setInterval(() => undefined, 1 << 30);
      const run = { config: withHttp(loaded.config, http, envToken), file, logger, clock: systemClock, storagePath, io, hooks, ...(http ? { http } : {}) };
      try {
        return await runUntilInterrupted(run, needsFleet(run.config, shard) ? fleetPart(run, shard) : bridgePart(run));
      } finally {
        clearInterval(keepAlive);
      }
    },
  };
}

/**
 * The config with `--http`/`--http-host` in its `http` section (the flags win), and the token from
 * PRESENCE_BRIDGE_HTTP_TOKEN in it whenever the server is on (the environment keeps the secret out
 * of the config file).
 */
export function withHttp(config: PresenceBridgeConfig, flags: { port: number; host: string; token?: string } | undefined, envToken: string | undefined): PresenceBridgeConfig {
  const section = flags ? { port: flags.port, host: flags.host } : config.http;
  if (!section) return config;
  const token = envToken ?? (flags ? undefined : config.http?.token);
  return { ...config, http: { ...section, ...(token !== undefined ? { token } : {}) } };
}

/** The daemon's `run`: the status page and health routes come with the config's `http` section, as in the plugin. */
export const command: CliCommand = createRunCommand();

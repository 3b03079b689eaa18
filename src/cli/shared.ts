import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfigFile } from '../configuration.js';
import type { PresenceBridgeConfig, UserConfig } from '../config/schema.js';
import { createGraphStack, type GraphStack } from '../graph/index.js';
import { GraphConfigError } from '../graph/errors.js';
import { GraphError } from '../graph/types.js';
import { RetriesExhaustedError } from '../graph/withRetry.js';
import { errorMessage, prefixedLogger, type Logger } from '../logger.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { EXIT, type CliIo } from './command.js';

/** Helpers shared by the commands that talk to Microsoft: login, set, clear, prefer, status. */

/** Bad usage: unknown option, missing argument. Exit 2 with the command's usage line. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const DEFAULT_RETRIES = 3;

/**
 * `~/.presence-bridge`: where every CLI command (run, login, set, clear, prefer, status) keeps the
 * delegated token cache and the bridge's state unless --storage says otherwise.
 */
export function defaultStoragePath(env: NodeJS.ProcessEnv): string {
  return join(env.HOME && env.HOME !== '' ? env.HOME : homedir(), '.presence-bridge');
}

export function resolvePath(io: CliIo, path: string): string {
  return isAbsolute(path) ? path : resolve(io.cwd, path);
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs, strict, with its errors turned into UsageErrors. */
export function parseCommandArgs<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(errorMessage(error).replace(/\. To specify a positional argument.*$/s, ''));
  }
}

/** Options every Graph command takes. */
export const COMMON_OPTIONS = {
  config: { type: 'string', short: 'c' },
  storage: { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
} as const satisfies Options;

export const COMMON_HELP = [
  '  -c, --config FILE   config file: a PresenceBridge platform block or a whole Homebridge config.json (required)',
  '      --storage DIR   folder of the delegated-mode token cache (default ~/.presence-bridge, as for run)',
  '  -v, --verbose       log every request and retry',
].join('\n');

/** Options of the commands that write one user's presence (set, clear, prefer). */
export const WRITE_OPTIONS = {
  ...COMMON_OPTIONS,
  user: { type: 'string', short: 'u' },
  retries: { type: 'string' },
} as const satisfies Options;

export const WRITE_HELP = [
  COMMON_HELP,
  '  -u, --user KEY      configured user (users[].key); may be left out with one user, or',
  '                      in delegated mode for the signed-in one',
  '      --retries N     retries on throttling or an unreachable Graph (default 3)',
].join('\n');

export const EXIT_CODES_HELP = 'Exit codes: 0 done, 2 bad usage or config, 3 refused by Graph or sign-in, 4 unreachable.';

export async function loadConfig(io: CliIo, file: string | undefined): Promise<{ config: PresenceBridgeConfig; file: string }> {
  if (file === undefined) throw new UsageError('--config FILE is required');
  const result = await loadConfigFile(resolvePath(io, file));
  if (!result.ok) {
    throw new ConfigProblem(result.errors);
  }
  return { config: result.config, file: result.file };
}

/** The config file is unreadable or invalid: every problem as `path: message`. Exit 2. */
export class ConfigProblem extends Error {
  override readonly name = 'ConfigProblem';
  constructor(readonly problems: readonly string[]) {
    super(`the config is not usable:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/** The configured user for `--user KEY`; may be left out when exactly one user is configured. */
export function resolveUser(config: PresenceBridgeConfig, key: string | undefined): UserConfig {
  const keys = config.users.map((u) => u.key).join(', ');
  if (key === undefined) {
    const [only, ...others] = config.users;
    if (only && others.length === 0) return only;
    throw new UsageError(`--user KEY is required: the config has several users (${keys})`);
  }
  const user = config.users.find((u) => u.key === key);
  if (!user) throw new UsageError(`no user "${key}" in the config; the users are: ${keys}`);
  return user;
}

/**
 * Like {@link resolveUser}, but in delegated mode `--user` may also be left out when one of the
 * configured users is the signed-in account.
 */
export async function resolveSessionUser(session: GraphSession, key: string | undefined): Promise<UserConfig> {
  if (key !== undefined || session.config.users.length === 1 || session.config.auth.mode !== 'delegated') return resolveUser(session.config, key);
  const account = await session.stack.tokens.account();
  const ids = account ? [account.localAccountId.toLowerCase(), account.username.toLowerCase()] : [];
  const user = session.config.users.find((u) => ids.includes(u.id.toLowerCase()));
  return user ?? resolveUser(session.config, key);
}

export function parseRetries(text: string | undefined): number {
  if (text === undefined) return DEFAULT_RETRIES;
  if (!/^\d+$/.test(text) || Number(text) > 20) throw new UsageError(`--retries must be a whole number from 0 to 20, got "${text}"`);
  return Number(text);
}

/** A logger to stderr: warnings and errors always, details with --verbose. */
export function cliLogger(io: CliIo, verbose: boolean): Logger {
  const write = (level: string, message: string, parameters: unknown[]) => {
    const extra = parameters.length ? ` ${parameters.map((p) => (p instanceof Error ? p.message : typeof p === 'string' ? p : JSON.stringify(p))).join(' ')}` : '';
    io.stderr.write(`${level}${message}${extra}\n`);
  };
  return {
    debug: (m, ...p) => {
      if (verbose) write('debug: ', m, p);
    },
    info: (m, ...p) => {
      if (verbose) write('', m, p);
    },
    warn: (m, ...p) => write('warning: ', m, p),
    error: (m, ...p) => write('error: ', m, p),
  };
}

export interface GraphSession {
  readonly config: PresenceBridgeConfig;
  readonly stack: GraphStack;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly storagePath: string;
}

/**
 * Real time with timers that keep the process alive. The library's system clock unrefs its
 * timers (a daemon lives on its sockets); a one-shot command waiting out a Retry-After with no
 * socket open would otherwise just exit, silently, in the middle of its retry.
 */
export function createCommandClock(): Clock {
  let next = 1;
  const timers = new Map<number, NodeJS.Timeout>();
  return {
    now: () => Date.now(),
    setTimeout(callback: () => void, delayMs: number): TimerHandle {
      const id = next++;
      timers.set(
        id,
        setTimeout(() => {
          timers.delete(id);
          callback();
        }, Math.max(0, delayMs)),
      );
      return { id };
    },
    clearTimeout(handle: TimerHandle | undefined): void {
      if (!handle) return;
      clearTimeout(timers.get(handle.id));
      timers.delete(handle.id);
    },
  };
}

/** Loads the config, builds the Graph stack, runs `fn`, always closes the stack. */
export async function withGraphSession<T>(
  io: CliIo,
  values: { config?: string; storage?: string; verbose?: boolean },
  fn: (session: GraphSession) => Promise<T>,
): Promise<T> {
  const { config } = await loadConfig(io, values.config);
  const logger = cliLogger(io, values.verbose === true);
  const storagePath = values.storage !== undefined ? resolvePath(io, values.storage) : defaultStoragePath(io.env);
  const clock = createCommandClock();
  const stack = createGraphStack(config, { logger: prefixedLogger(logger, '[graph]'), clock, storagePath, env: io.env });
  try {
    return await fn({ config, stack, logger, clock, storagePath });
  } finally {
    await stack.close();
  }
}

/** Exit code for an error: 2 usage/config, 3 refused, 4 unreachable after retries, 1 anything else. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError || error instanceof ConfigProblem || error instanceof GraphConfigError) return EXIT.usage;
  if (error instanceof RetriesExhaustedError) return EXIT.unreachable;
  if (error instanceof GraphError) {
    if (error.code === 'NETWORK' || error.code === 'THROTTLED' || error.code === 'UNAVAILABLE') return EXIT.unreachable;
    return EXIT.refused;
  }
  return EXIT.failure;
}

/** Writes the error (message, hint, Graph's code and request-id) to stderr; returns the exit code. */
export function reportError(io: CliIo, command: string, error: unknown, usage?: string): number {
  const code = exitCodeFor(error);
  const graphError = error instanceof RetriesExhaustedError ? error.lastError : error instanceof GraphError ? error : undefined;
  const lines = [`presence-bridge ${command}: ${errorMessage(error)}`];
  if (graphError) {
    lines.push(`  hint: ${graphError.hint}`);
    const facts = [
      `error ${graphError.code}`,
      graphError.status !== undefined ? `HTTP ${graphError.status}` : undefined,
      graphError.graphCode ? `code ${graphError.graphCode}` : undefined,
      graphError.requestId ? `request-id ${graphError.requestId}` : undefined,
    ].filter((f) => f !== undefined);
    lines.push(`  (${facts.join(', ')})`);
  }
  if (error instanceof UsageError && usage) lines.push('', usage.trimEnd());
  io.stderr.write(`${lines.join('\n')}\n`);
  return code;
}

/**
 * V8 and allocator settings for the long-running daemon (`presence-bridge run`, issue 16, memory),
 * applied by relaunching the process image once with them (process.execve: same pid, no parent
 * left behind, so a service manager or container sees one process).
 *
 * Why: Node 22 sizes the young generation for throughput (semi-spaces up to 16 MiB or more each),
 * so a process that allocates per message keeps tens of MiB committed; V8 lets the old space grow
 * far past the live data before it collects (`--optimize-for-size` makes it grow less and collect
 * sooner; it is not allowed in NODE_OPTIONS, hence the relaunch); and glibc keeps freed
 * memory in one arena per thread (up to 8 per core), where V8's compiler threads and the file
 * writes of libuv's pool leave it. The figures and the CPU cost are in BENCHMARKS.md ("Issue 16:
 * memory").
 *
 * Override: PRESENCE_BRIDGE_NODE_OPTIONS replaces the flags (empty: Node's own defaults, no
 * relaunch); a NODE_OPTIONS or command line that already sets a semi-space or heap flag is the
 * user's choice and left alone, as is a MALLOC_ARENA_MAX already set.
 */

/** The flags the daemon runs with unless told otherwise. */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--optimize-for-size'];
/** glibc's arena cap for the daemon (ignored by other C libraries). */
export const DAEMON_MALLOC_ARENA_MAX = '2';
/** Set in the relaunched process, so it never relaunches again. */
export const RELAUNCHED_ENV = 'PRESENCE_BRIDGE_RELAUNCHED';
export const OVERRIDE_ENV = 'PRESENCE_BRIDGE_NODE_OPTIONS';

const USER_HEAP_FLAG = /--(max|min)-semi-space-size|--semi-space-growth-factor|--max-old-space-size|--optimize-for-size/;

export interface Relaunch {
  /** Arguments for the new image after the node binary: flags, then the script and its arguments. */
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/**
 * How to relaunch `node <execArgv> <script> <args>` with the daemon's settings, or null when it
 * should run as it is (already relaunched, turned off, or the user chose heap flags).
 */
export function daemonRelaunch(env: NodeJS.ProcessEnv, execArgv: readonly string[], script: string, args: readonly string[]): Relaunch | null {
  if (env[RELAUNCHED_ENV] !== undefined) return null;
  const override = env[OVERRIDE_ENV];
  if (override === undefined && (USER_HEAP_FLAG.test(env.NODE_OPTIONS ?? '') || execArgv.some((a) => USER_HEAP_FLAG.test(a)))) return null;
  const flags = override === undefined ? [...DAEMON_NODE_FLAGS] : override.split(/\s+/).filter((f) => f !== '');
  if (flags.length === 0 && override !== undefined) return null;
  const next: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) next[key] = value;
  next[RELAUNCHED_ENV] = '1';
  next.MALLOC_ARENA_MAX ??= DAEMON_MALLOC_ARENA_MAX;
  return { args: [...flags, ...execArgv, script, ...args], env: next };
}

/**
 * Replaces this process with the daemon's settings when {@link daemonRelaunch} says so and the
 * Node version can (process.execve, Node 22.15+); otherwise returns and the daemon runs as it is.
 */
export function relaunchForDaemon(): void {
  if (process.env[RELAUNCHED_ENV] !== undefined) {
    // relaunched already; a process this one starts (a fleet shard) gets its own relaunch
    delete process.env[RELAUNCHED_ENV];
    return;
  }
  const script = process.argv[1];
  if (script === undefined || typeof process.execve !== 'function') return;
  const plan = daemonRelaunch(process.env, process.execArgv, script, process.argv.slice(2));
  if (plan === null) return;
  try {
    process.execve(process.execPath, [process.execPath, ...plan.args], plan.env);
  } catch {
    // not permitted here (a sandbox, a worker): run with Node's defaults
  }
}

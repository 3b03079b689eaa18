import type { Writable } from 'node:stream';

/** Exit codes of `presence-bridge`, shared by every command. */
export const EXIT = {
  ok: 0,
  /** Generic failure not covered below. */
  failure: 1,
  /** Bad usage or bad config. */
  usage: 2,
  /** Graph or sign-in refused (the message carries the hint). */
  refused: 3,
  /** Unreachable after retries. */
  unreachable: 4,
} as const;

export interface CliIo {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Resolves when the user asks to stop (SIGINT/SIGTERM in the real CLI). */
  readonly interrupted: Promise<void>;
}

export interface CliCommand {
  readonly name: string;
  /** One line for `presence-bridge --help`. */
  readonly summary: string;
  /** Full help text for `presence-bridge <name> --help`. */
  readonly help: string;
  run(args: string[], io: CliIo): Promise<number>;
}

#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CliCommand, CliIo } from './command.js';
import { EXIT } from './command.js';
import { command as run } from './commands/run.js';
import { command as demo } from './commands/demo.js';
import { command as emulator } from './commands/emulator.js';
import { command as checkConfig } from './commands/checkConfig.js';
import { command as login } from './commands/login.js';
import { command as set } from './commands/set.js';
import { command as clear } from './commands/clear.js';
import { command as prefer } from './commands/prefer.js';
import { command as status } from './commands/status.js';
import { relaunchForDaemon } from './daemonHeap.js';

export const COMMANDS: readonly CliCommand[] = [run, demo, emulator, checkConfig, login, set, clear, prefer, status];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'Usage: presence-bridge <command> [options]',
    '',
    'Turns desk signals (MQTT, serial, HomeKit) into Microsoft Teams presence.',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `presence-bridge <command> --help` for the options of a command.',
    '',
  ].join('\n');
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`presence-bridge: unknown command "${name}"\n\n${usage()}`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${command.help.trimEnd()}\n`);
    return EXIT.ok;
  }
  return command.run(rest, io);
}

function processIo(): CliIo {
  const interrupted = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), interrupted };
}

function invokedAsProgram(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

/** Runs the command line of this process (bin.ts calls it once the Node version is known to fit). */
export function runProgram(): void {
  // the long-running daemon only: smaller young generation and fewer malloc arenas (issue 16)
  if (process.argv[2] === 'run') relaunchForDaemon();
  main(process.argv.slice(2), processIo()).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`presence-bridge: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = EXIT.failure;
    },
  );
}

if (invokedAsProgram()) runProgram();

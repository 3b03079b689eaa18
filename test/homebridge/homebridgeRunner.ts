import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { builtProduct } from '../helpers/builtProduct.js';
import { tempDir } from '../helpers/tempDir.js';

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const stripAnsi = (text: string): string => text.replace(ANSI, '');

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const HOMEBRIDGE_BIN = join(REPO, 'node_modules', 'homebridge', 'bin', 'homebridge.js');

export { freePort } from '../helpers/net.js';
export { tempDir };

export interface HomebridgeOptions {
  readonly storagePath: string;
  readonly pluginPath: string;
  readonly config: unknown;
  readonly debug?: boolean;
}

const started: HomebridgeProcess[] = [];

/**
 * For afterEach: when the test failed, writes the output of every Homebridge it started to
 * test-output/ (and says where); forgets them either way.
 */
export async function keepHomebridgeOutputOnFailure(context: { task: { name: string; result?: { state?: string } } }): Promise<void> {
  const processes = started.splice(0);
  if (context.task.result?.state !== 'fail') return;
  const folder = join(REPO, 'test-output');
  await mkdir(folder, { recursive: true });
  const file = join(folder, `homebridge-${context.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.log`);
  await writeFile(file, processes.map((p, i) => `===== Homebridge run ${i + 1}\n${p.output()}`).join('\n'));
  process.stderr.write(`Homebridge output kept in ${file}\n`);
}

/** A real Homebridge 2 process, its output collected line by line. */
export class HomebridgeProcess {
  readonly lines: string[] = [];
  private child: ChildProcess | null = null;
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null = null;
  private readonly waiters = new Set<() => void>();
  exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  constructor(private readonly options: HomebridgeOptions) {}

  async start(): Promise<void> {
    await mkdir(this.options.storagePath, { recursive: true });
    await writeFile(join(this.options.storagePath, 'config.json'), JSON.stringify(this.options.config, null, 2));
    const args = [HOMEBRIDGE_BIN, '-U', this.options.storagePath, '-P', this.options.pluginPath, '--strict-plugin-resolution', '-Q', '-T'];
    if (this.options.debug) args.push('-D');
    started.push(this);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    this.child = child;
    const collect = (chunk: Buffer, carry: { rest: string }) => {
      const text = carry.rest + chunk.toString('utf8');
      const parts = text.split('\n');
      carry.rest = parts.pop() ?? '';
      for (const line of parts) this.lines.push(stripAnsi(line));
      for (const wake of [...this.waiters]) wake();
    };
    const out = { rest: '' };
    const err = { rest: '' };
    child.stdout?.on('data', (chunk: Buffer) => collect(chunk, out));
    child.stderr?.on('data', (chunk: Buffer) => collect(chunk, err));
    this.exited = new Promise((resolveExit) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        for (const wake of [...this.waiters]) wake();
        resolveExit({ code, signal });
      });
    });
  }

  get running(): boolean {
    return this.child !== null && this.exitInfo === null;
  }

  output(): string {
    return this.lines.join('\n');
  }

  /** Resolves with the first line matching, waiting for output; rejects if Homebridge exits or after `timeoutMs`. */
  async waitFor(pattern: RegExp, timeoutMs = 30_000, from = 0): Promise<string> {
    return new Promise((resolveLine, reject) => {
      const check = () => {
        const line = this.lines.slice(from).find((l) => pattern.test(l));
        if (line !== undefined) return finish(() => resolveLine(line));
        if (this.exitInfo) return finish(() => reject(new Error(`Homebridge exited (${JSON.stringify(this.exitInfo)}) before ${pattern}:\n${this.output()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${this.output()}`))), timeoutMs);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** SIGKILL, as a crash (nothing runs on the way out); waits for the exit. */
  async kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.child || !this.exited) throw new Error('not started');
    if (!this.exitInfo) this.child.kill('SIGKILL');
    return this.exited;
  }

  /** SIGTERM, as a service manager stops Homebridge; waits for the exit. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.child || !this.exited) throw new Error('not started');
    if (!this.exitInfo) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 15_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * A Homebridge config.json with a bridge on 127.0.0.1 and the given platform blocks. The bridge's
 * name and id derive from the port, so bridges of tests running side by side never collide in
 * mDNS, and a restart on the same port is the same bridge (its pairings still hold).
 */
export function homebridgeConfig(port: number, pin: string, platforms: unknown[]): Record<string, unknown> {
  const hex = (n: number) => n.toString(16).padStart(2, '0').toUpperCase();
  return {
    bridge: {
      name: `Presence Bridge Test ${port}`,
      username: `0E:3C:21:7A:${hex(port >> 8)}:${hex(port & 0xff)}`,
      port,
      pin,
      bind: ['127.0.0.1'],
    },
    accessories: [],
    platforms,
  };
}

/**
 * The per-file setup of a test that runs Homebridge: the plugin folder of the run's one build
 * (test/setup/buildProduct.ts); after each test, Homebridge's output kept when it failed and the
 * test's cleanups run, newest first.
 */
export function homebridgeFixture(): { readonly pluginPath: string; readonly cleanups: (() => Promise<unknown>)[] } {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async (context) => {
    await keepHomebridgeOutputOnFailure(context);
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });
  return {
    get pluginPath(): string {
      return builtProduct().pluginPath;
    },
    cleanups,
  };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRunning, terminate } from './childProcess.js';

/**
 * A linked pair of pseudo-terminals made by socat: bytes written to one end come out of the
 * other. `a` and `b` are stable symlinks in a temp folder (like /dev/serial/by-id/… names), so a
 * test can `kill()` the pair (both ends vanish, as on an unplug) and `restart()` it on the same
 * paths (the device is plugged back in).
 */
export interface PtyPair {
  /** Path of one end (give it to the code under test). */
  readonly a: string;
  /** Path of the other end (the test plays the device here). */
  readonly b: string;
  readonly dir: string;
  /** Is socat running? */
  running(): boolean;
  /** Stop socat; both links disappear. */
  kill(): Promise<void>;
  /** Start socat again on the same links (kills a running one first). */
  restart(): Promise<void>;
  /** Stop socat and remove the temp folder. */
  close(): Promise<void>;
}

export interface PtyPairOptions {
  /** How long to wait for socat to create both links (ms). */
  startTimeoutMs?: number;
}

export async function createPtyPair(options: PtyPairOptions = {}): Promise<PtyPair> {
  const dir = await mkdtemp(join(tmpdir(), 'pb-socat-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = proc;
    let stderr = '';
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
      // socat logs every data transfer at -d -d; keep only what a failure report needs.
      if (stderr.length > 16_384) stderr = stderr.slice(-8_192);
    });
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + startTimeoutMs;
      const onExit = (code: number | null): void => {
        clearInterval(timer);
        reject(new Error(`socat exited (${code}) before creating its links: ${stderr}`));
      };
      proc.once('exit', onExit);
      proc.once('error', (error) => {
        clearInterval(timer);
        reject(error);
      });
      // socat prints "starting data transfer loop" once both ends exist; the links are the fact.
      const timer = setInterval(() => {
        if (existsSync(a) && existsSync(b) && stderr.includes('starting data transfer loop')) {
          clearInterval(timer);
          proc.off('exit', onExit);
          resolve();
        } else if (Date.now() > deadline) {
          clearInterval(timer);
          proc.off('exit', onExit);
          proc.kill('SIGKILL');
          reject(new Error(`socat did not create ${a} and ${b} in ${startTimeoutMs} ms: ${stderr}`));
        }
      }, 10);
    });
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!isRunning(proc)) return;
    await terminate(proc);
    // socat removes its links on a clean exit; make sure, so "the device vanished" holds.
    await Promise.all([rm(a, { force: true }), rm(b, { force: true })]);
  };

  await start();
  return {
    a,
    b,
    dir,
    running: () => isRunning(child),
    kill,
    restart: async () => {
      await kill();
      await start();
    },
    close: async () => {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

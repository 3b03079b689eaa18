import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.js';
import { isRunning, terminate } from './childProcess.js';

/**
 * A real Mosquitto broker for tests, on a free loopback port, without persistence (a restart
 * loses sessions and retained messages, like a broker that crashed). Shared by the MQTT tests,
 * the demo and the reliability suite. (This Mosquitto build has no WebSocket support; the MQTT
 * tests put a WebSocket-to-TCP relay in front of it for ws:// URLs.)
 */
export interface MosquittoOptions {
  /** Require these username/password pairs (written with mosquitto_passwd); anonymous is then refused. */
  readonly users?: Readonly<Record<string, string>>;
  /** Serve TLS (mqtts) with these PEM files instead of plain TCP. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile?: string };
  /** Extra mosquitto.conf lines. */
  readonly extraConfig?: readonly string[];
  readonly binary?: string;
}

export interface Mosquitto {
  readonly host: string;
  readonly port: number;
  /** mqtt://127.0.0.1:port (mqtts:// with TLS). */
  readonly url: string;
  readonly dir: string;
  /** What the broker wrote to stderr so far (for failure messages). */
  output(): string;
  running(): boolean;
  /** SIGTERM and wait for exit; the port stays reserved for `restart`. */
  stop(): Promise<void>;
  /** Start again on the same port(s) and wait until it accepts connections. */
  restart(): Promise<void>;
  /** Stop and delete the temporary folder. */
  close(): Promise<void>;
}

export const MOSQUITTO_BINARY = '/usr/sbin/mosquitto';
const HOST = '127.0.0.1';

export { freePort };

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'mosquitto-'));
  const port = await freePort();
  // Started as root, Mosquitto drops to the `mosquitto` user, which cannot read our 0700 folder.
  const asUser = process.getuid?.() === 0 ? ['user root'] : [];
  const lines = [...asUser, 'per_listener_settings false', 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', 'log_type notice'];
  lines.push(`listener ${port} ${HOST}`);
  if (options.tls) {
    lines.push(`certfile ${options.tls.certFile}`, `keyfile ${options.tls.keyFile}`);
    if (options.tls.caFile) lines.push(`cafile ${options.tls.caFile}`);
  }
  if (options.users) {
    const passwordFile = join(dir, 'passwords');
    writeFileSync(passwordFile, '');
    for (const [user, password] of Object.entries(options.users)) execFileSync('/usr/bin/mosquitto_passwd', ['-b', passwordFile, user, password]);
    lines.push('allow_anonymous false', `password_file ${passwordFile}`);
  } else {
    lines.push('allow_anonymous true');
  }
  lines.push(...(options.extraConfig ?? []));
  const confFile = join(dir, 'mosquitto.conf');
  writeFileSync(confFile, `${lines.join('\n')}\n`);

  let child: ChildProcess | undefined;
  let log = '';

  const launch = async (): Promise<void> => {
    const proc = spawn(options.binary ?? MOSQUITTO_BINARY, ['-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      log = (log + chunk).slice(-20_000);
    });
    let exited = false;
    proc.once('exit', () => {
      exited = true;
    });
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (exited) throw new Error(`mosquitto exited at start:\n${log}`);
      if (await canConnect(port)) return;
      if (Date.now() > deadline) throw new Error(`mosquitto did not accept connections on ${port}:\n${log}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    await terminate(proc);
  };

  await launch();
  return {
    host: HOST,
    port,
    url: `${options.tls ? 'mqtts' : 'mqtt'}://${HOST}:${port}`,
    dir,
    output: () => log,
    running: () => isRunning(child),
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

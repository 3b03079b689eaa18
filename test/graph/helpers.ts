import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { validateConfig } from '../../src/configuration.js';
import type { PresenceBridgeConfig } from '../../src/config/schema.js';
import type { Emulator } from '../../src/emulator/index.js';
import { emulatorConfigBlock } from '../../src/emulator/configBlock.js';
import type { CliIo } from '../../src/cli/command.js';
import { Collect } from '../helpers/collect.js';
import { waitFor } from '../helpers/waitFor.js';

export const USER_KEYS = ['alex', 'megan', 'lee'] as const;

type Patch = {
  auth?: Record<string, unknown>;
  graph?: Record<string, unknown>;
  users?: { key: string; id: string }[];
  proxy?: string;
  tls?: Record<string, unknown>;
};

/** A valid config (through the real validator) pointing at the emulator; apps[0] with its secret by default. */
export function configFor(emulator: Emulator, patch: Patch = {}): PresenceBridgeConfig {
  const block = emulatorConfigBlock(emulator, { graph: patch.graph });
  const raw = {
    platform: 'PresenceBridge',
    ...block,
    auth: { ...block.auth, ...patch.auth },
    tls: { ...block.tls, ...patch.tls },
    users: patch.users ?? emulator.users.map((u, i) => ({ key: USER_KEYS[i]!, id: u.id })),
    ...(patch.proxy ? { proxy: patch.proxy } : {}),
  };
  // Drop keys patched to undefined (e.g. clientSecret when a certificate is used).
  const cleaned = JSON.parse(JSON.stringify(raw)) as unknown;
  const result = validateConfig(cleaned);
  if (!result.ok) throw new Error(`test config invalid: ${result.errors.join('; ')}`);
  return result.config;
}

export async function writeConfigFile(dir: string, config: unknown, name = 'config.json'): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify(config, null, 2));
  return file;
}

export async function tempDir(prefix = 'pb-graph-'): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export interface TestIo extends CliIo {
  readonly stdout: Collect;
  readonly stderr: Collect;
  interrupt(): void;
}

export function testIo(env: NodeJS.ProcessEnv = {}, cwd = process.cwd()): TestIo {
  let interrupt: () => void = () => undefined;
  const interrupted = new Promise<void>((resolve) => {
    interrupt = resolve;
  });
  return { stdout: new Collect(), stderr: new Collect(), env: { HOME: tmpdir(), ...env }, cwd, interrupted, interrupt };
}

/** A tiny HTTP CONNECT proxy on loopback that records the targets it tunnels to. */
export async function startConnectProxy(): Promise<{ url: string; targets: string[]; close(): Promise<void> }> {
  const targets: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((_req, res) => {
    res.statusCode = 405;
    res.end('CONNECT only');
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    targets.push(target);
    const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
    const upstream = connect(port, host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    targets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Every host undici connects to or sends a request to while it runs, from undici's diagnostics
 * channels (both Node's bundled undici and the package publish there).
 */
export function watchOutgoing(): { hosts: Set<string>; stop(): void } {
  const hosts = new Set<string>();
  const onRequest = (message: unknown) => {
    const origin = (message as { request?: { origin?: unknown } }).request?.origin;
    if (typeof origin === 'string') hosts.add(new URL(origin).hostname);
  };
  const onConnect = (message: unknown) => {
    const params = (message as { connectParams?: { hostname?: unknown } }).connectParams;
    if (typeof params?.hostname === 'string') hosts.add(params.hostname);
  };
  subscribe('undici:request:create', onRequest);
  subscribe('undici:client:beforeConnect', onConnect);
  return {
    hosts,
    stop() {
      unsubscribe('undici:request:create', onRequest);
      unsubscribe('undici:client:beforeConnect', onConnect);
    },
  };
}

/** Resolves when `check` is true, polling the event loop (never a fixed sleep in an assertion). */
export function until(check: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  return waitFor(check, { what, timeoutMs: limitMs });
}

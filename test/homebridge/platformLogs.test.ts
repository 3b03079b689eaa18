// The API object Homebridge hands to plugins (not in the package's exports, so by path).
import { HomebridgeAPI } from '../../node_modules/homebridge/dist/api.js';
import { User } from '../../node_modules/homebridge/dist/user.js';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logging } from 'homebridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import { startEmulator } from '../../src/emulator/index.js';
import { PresenceBridgePlatform } from '../../src/homebridge/platform.js';
import { emulatorConfigBlock } from '../../src/emulator/configBlock.js';

/** Homebridge's per-plugin log, recording each line with its level as Homebridge would print it. */
function recordingLog(prefix: string): Logging & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => {
    lines.push(`${level} [${prefix}] ${message}`);
  };
  const log = Object.assign((message: string) => at('info')(message), {
    prefix,
    lines,
    info: at('info'),
    success: at('success'),
    warn: at('warn'),
    error: at('error'),
    debug: at('debug'),
    log: (level: string, message: string) => at(level)(message),
  });
  return log as Logging & { lines: string[] };
}

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the plugin in Homebridge (in process) with the Graph emulator', () => {
  let emulator: Emulator;
  let storage: string;

  beforeAll(async () => {
    emulator = await startEmulator({});
    storage = await mkdtemp(join(tmpdir(), 'pb-hb-logs-'));
    User.setStoragePath(storage);
  });
  afterAll(async () => {
    await emulator.close();
    await rm(storage, { recursive: true, force: true });
  });

  async function runPlatform(block: Record<string, unknown>, until_: (log: { lines: string[] }) => boolean) {
    const api = new HomebridgeAPI();
    const log = recordingLog('Presence Bridge');
    new PresenceBridgePlatform(log, { platform: 'PresenceBridge', ...block }, api);
    api.signalFinished();
    try {
      await until(() => until_(log), 'the first read-back');
    } finally {
      api.signalShutdown();
      await until(() => log.lines.some((l) => / stopped$| stopping failed/.test(l)), 'the bridge to stop');
    }
    return log.lines;
  }

  function appBlock(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      ...emulatorConfigBlock(emulator, { graph: { pollSeconds: 60 } }),
      users: [{ key: 'alex', id: emulator.users[0]!.id }],
      ...extra,
    };
  }

  it('prefixes each part once, and MSAL\'s "No client info in response" (every app-only token) is a debug line', async () => {
    emulator.clearRequestLog();
    const lines = await runPlatform(appBlock(), () => emulator.requestLog().some((e) => e.route === '/communications/getPresencesByUserId' && e.status === 200));
    // No part prefix twice in a row, e.g. "[graph] [graph] [msal]".
    expect(lines.filter((l) => /(\[[\w -]+\]) \1/.test(l))).toEqual([]);
    const msal = lines.filter((l) => l.includes('[msal]'));
    expect(msal).toContain('debug [Presence Bridge] [graph] [msal] No client info in response');
    expect(lines.filter((l) => /^(warn|error) /.test(l))).toEqual([]);
    expect(lines.some((l) => l.startsWith('debug [Presence Bridge] [graph] POST /communications/getPresencesByUserId -> 200'))).toBe(true);
  });

  it('resolves relative file options (CA, certificate, key) against Homebridge\'s storage folder, where config.json is', async () => {
    const cert = emulator.apps[0]!.certificate!;
    await mkdir(join(storage, 'presence-certs'), { recursive: true });
    await copyFile(emulator.caCertFile, join(storage, 'presence-certs', 'ca.pem'));
    await writeFile(join(storage, 'presence-certs', 'key.pem'), cert.privateKeyPem, { mode: 0o600 });
    await writeFile(join(storage, 'presence-certs', 'cert.pem'), cert.certPem);
    emulator.clearRequestLog();
    const block = appBlock({ tls: { caFile: 'presence-certs/ca.pem' } });
    const auth = block['auth'] as Record<string, unknown>;
    delete auth['clientSecret'];
    auth['certificate'] = { privateKeyFile: 'presence-certs/key.pem', certificateFile: './presence-certs/cert.pem', thumbprint: cert.thumbprint };
    // Homebridge's working directory (here the repository) holds none of these files.
    const lines = await runPlatform(block, () => emulator.requestLog().some((e) => e.route === '/communications/getPresencesByUserId' && e.status === 200));
    expect(lines.filter((l) => /^(warn|error) /.test(l))).toEqual([]);
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/configuration.js';
import { createCertificateAuthority, createServerCertificate } from '../../src/emulator/certificates.js';
import { MqttFeature, defaultClientId } from '../../src/mqtt/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import type { Mosquitto } from '../helpers/mosquitto.js';
import { RecordingBridge, Watcher, recordingLogger, waitFor } from './support.js';
import { startWsRelay } from './wsRelay.js';

/** Broker URL schemes, credentials and TLS files, each against a real Mosquitto. */

const USERS = [{ key: 'alex', id: 'id-alex' }];
const PASSWORD = 'pa55-word-never-logged';
let dir: string;
const files = { ca: '', serverCert: '', serverKey: '', clientCert: '', clientKey: '' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pb-mqtt-tls-'));
  const ca = await createCertificateAuthority();
  const server = await createServerCertificate(ca);
  const client = await generate([{ name: 'commonName', value: 'presence-bridge' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    ca: { cert: ca.certPem, key: ca.keyPem },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
  const write = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text, { mode: 0o600 });
    return file;
  };
  files.ca = write('ca.pem', ca.certPem);
  files.serverCert = write('server.pem', server.certPem);
  files.serverKey = write('server-key.pem', server.keyPem);
  files.clientCert = write('client.pem', client.cert);
  files.clientKey = write('client-key.pem', client.private);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const cleanups = cleanupAfterEach();

async function broker(options: Parameters<typeof startMosquitto>[0] = {}): Promise<Mosquitto> {
  const b = await startMosquitto(options);
  cleanups.push(() => b.close());
  return b;
}

function feature(mqtt: Record<string, unknown>, protocolVersion: 4 | 5) {
  const base = `v${protocolVersion}-${Math.random().toString(36).slice(2, 8)}`;
  const config = configSchema.parse({
    auth: { tenantId: 't', clientId: 'c', clientSecret: 's' },
    users: USERS,
    mqtt: { protocolVersion, baseTopic: base, ...mqtt },
    inputs: [{ name: 'Hook', type: 'mqtt', topic: `${base}-dev/hook`, map: { OFFHOOK: 'Busy/InACall' } }],
  });
  const bridge = new RecordingBridge(USERS);
  const logger = recordingLogger();
  const f = new MqttFeature({ ...config, mqtt: config.mqtt! }, bridge, { logger, clock: new ManualClock(), storagePath: '/x' }, { connection: { reconnectMinMs: 50, reconnectMaxMs: 200 } });
  cleanups.push(() => f.stop());
  return { base, bridge, logger, feature: f };
}

describe.each([5, 4] as const)('broker connection variants, MQTT %s', (protocolVersion) => {
  it('username and password: accepted when right; refused ones are retried, logged, and the password never appears', async () => {
    const b = await broker({ users: { bridge: PASSWORD, watcher: 'w' } });
    const watcher = await Watcher.connect(b.url, protocolVersion, ['#'], { username: 'watcher', password: 'w' });
    cleanups.push(() => watcher.close());

    const good = feature({ url: b.url, username: 'bridge', password: PASSWORD }, protocolVersion);
    await good.feature.start();
    await waitFor(() => watcher.last(`${good.base}/status`)?.text === 'online', 'online with credentials');
    await watcher.publish(`${good.base}-dev/hook`, 'OFFHOOK');
    await waitFor(() => good.bridge.signals.length === 1, 'signal');

    const bad = feature({ url: `mqtt://bridge:${PASSWORD}x@127.0.0.1:${b.port}`, password: `${PASSWORD}x` }, protocolVersion);
    await bad.feature.start();
    await waitFor(() => bad.logger.lines.filter((l) => l.level === 'warn' && /error/.test(l.message)).length >= 3, 'refusals retried');
    expect(bad.feature.connection.connected).toBe(false);
    expect(bad.logger.lines.some((l) => /[Nn]ot authori[sz]ed|[Bb]ad user name or password/.test(l.message))).toBe(true);
    expect(bad.logger.lines.some((l) => l.message.includes(PASSWORD))).toBe(false);
    expect(good.logger.lines.some((l) => l.message.includes(PASSWORD))).toBe(false);
    expect(bad.logger.lines.some((l) => l.message.includes('mqtt://bridge:***@127.0.0.1'))).toBe(true);
  });

  it('mqtts with the CA file connects; without it the certificate is refused and the feature keeps trying', async () => {
    const b = await broker({ tls: { certFile: files.serverCert, keyFile: files.serverKey } });
    const watcher = await Watcher.connect(b.url, protocolVersion, ['#'], { ca: readFileSync(files.ca) });
    cleanups.push(() => watcher.close());
    expect(b.url.startsWith('mqtts://')).toBe(true);

    const trusted = feature({ url: b.url, ca: files.ca }, protocolVersion);
    await trusted.feature.start();
    await waitFor(() => watcher.last(`${trusted.base}/status`)?.text === 'online', 'online over TLS');

    const untrusted = feature({ url: b.url }, protocolVersion);
    await untrusted.feature.start();
    await waitFor(() => untrusted.logger.lines.filter((l) => /certificate/i.test(l.message)).length >= 2, 'TLS refusal retried');
    expect(untrusted.feature.connection.connected).toBe(false);
  });

  it('mqtts with a client certificate when the broker requires one', async () => {
    const b = await broker({ tls: { certFile: files.serverCert, keyFile: files.serverKey, caFile: files.ca }, extraConfig: ['require_certificate true'] });
    const watcher = await Watcher.connect(b.url, protocolVersion, ['#'], { ca: readFileSync(files.ca), cert: readFileSync(files.clientCert), key: readFileSync(files.clientKey) });
    cleanups.push(() => watcher.close());
    const withCert = feature({ url: b.url, ca: files.ca, cert: files.clientCert, key: files.clientKey }, protocolVersion);
    await withCert.feature.start();
    await waitFor(() => watcher.last(`${withCert.base}/status`)?.text === 'online', 'online with a client certificate');
    await watcher.publish(`${withCert.base}-dev/hook`, 'OFFHOOK');
    await waitFor(() => withCert.bridge.signals.length === 1, 'signal over mTLS');
  });

  it('ws:// URLs connect through a WebSocket endpoint', async () => {
    const b = await broker();
    const relay = await startWsRelay(b.port);
    cleanups.push(() => relay.close());
    const watcher = await Watcher.connect(b.url, protocolVersion);
    cleanups.push(() => watcher.close());
    const overWs = feature({ url: relay.url }, protocolVersion);
    await overWs.feature.start();
    await waitFor(() => watcher.last(`${overWs.base}/status`)?.text === 'online', 'online over WebSocket');
    await watcher.publish(`${overWs.base}-dev/hook`, 'OFFHOOK');
    await waitFor(() => overWs.bridge.signals.length === 1, 'signal over WebSocket');
    await overWs.feature.stop();
    await waitFor(() => watcher.last(`${overWs.base}/status`)?.text === 'offline', 'offline on stop');
  });

  it('a missing CA file is reported when starting, not thrown from an event handler later', async () => {
    const missing = feature({ url: 'mqtts://127.0.0.1:1', ca: join(dir, 'nope.pem') }, protocolVersion);
    await expect(missing.feature.start()).rejects.toThrow(/nope\.pem/);
  });
});

describe('default client id', () => {
  it('is presence-bridge_ with a suffix stable for the base topic', () => {
    expect(defaultClientId('presence-bridge')).toMatch(/^presence-bridge_[0-9a-f]{10}$/);
    expect(defaultClientId('presence-bridge')).toBe(defaultClientId('presence-bridge'));
    expect(defaultClientId('office')).not.toBe(defaultClientId('presence-bridge'));
  });
});

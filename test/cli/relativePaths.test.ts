import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/command.js';
import { main } from '../../src/cli/main.js';
import { loadConfigFile } from '../../src/configuration.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { configFor, tempDir, testIo, writeConfigFile } from '../graph/helpers.js';

/**
 * File options given as relative paths start at the config file's folder, not at the folder
 * the command happens to be started from.
 */
describe('relative paths in a config file', () => {
  let emulator: Emulator;
  let dir: { path: string; remove(): Promise<void> };
  let configDir: string;
  let elsewhere: string;

  beforeAll(async () => {
    emulator = await startEmulator();
    dir = await tempDir('pb-cli-paths-');
    configDir = join(dir.path, 'etc', 'presence-bridge');
    elsewhere = join(dir.path, 'somewhere-else');
    await mkdir(join(configDir, 'certs'), { recursive: true });
    await mkdir(elsewhere);
    const cert = emulator.apps[0]!.certificate!;
    await copyFile(emulator.caCertFile, join(configDir, 'certs', 'graph-ca.pem'));
    await writeFile(join(configDir, 'certs', 'app-key.pem'), cert.privateKeyPem, { mode: 0o600 });
    await writeFile(join(configDir, 'certs', 'app-cert.pem'), cert.certPem);
  });
  afterAll(async () => {
    await emulator.close();
    await dir.remove();
  });

  function relativeConfig() {
    const cert = emulator.apps[0]!.certificate!;
    const config = configFor(emulator, {
      auth: { clientSecret: undefined, certificate: { privateKeyFile: 'certs/app-key.pem', certificateFile: './certs/app-cert.pem', thumbprint: cert.thumbprint } },
      tls: { caFile: 'certs/graph-ca.pem' },
    });
    return { ...config, mqtt: { url: 'mqtts://127.0.0.1:8883', ca: 'certs/broker-ca.pem', cert: 'certs/client.pem', key: '/abs/client-key.pem' } };
  }

  it('loadConfigFile makes tls.caFile, auth.certificate.* and mqtt.ca/cert/key absolute against the file\'s folder', async () => {
    const file = await writeConfigFile(configDir, relativeConfig());
    const result = await loadConfigFile(file);
    if (!result.ok) throw new Error(result.errors.join('\n'));
    const certs = join(configDir, 'certs');
    expect(result.config.tls.caFile).toBe(join(certs, 'graph-ca.pem'));
    expect(result.config.auth.certificate).toMatchObject({ privateKeyFile: join(certs, 'app-key.pem'), certificateFile: join(certs, 'app-cert.pem') });
    expect(result.config.mqtt).toMatchObject({ ca: join(certs, 'broker-ca.pem'), cert: join(certs, 'client.pem'), key: '/abs/client-key.pem' });
  });

  it('set and status started from another folder sign in with the certificate and trust the CA named relative to the config', async () => {
    const file = await writeConfigFile(configDir, relativeConfig());
    // The process's working directory (the repository) holds none of these files either.
    const io = testIo({}, elsewhere);
    const set = await main(['set', '--config', file, '--user', 'alex', 'Busy/InACall'], io);
    expect(io.stderr.text).toBe('');
    expect(set).toBe(EXIT.ok);
    expect(emulator.presenceOf(emulator.users[0]!.id)).toMatchObject({ availability: 'Busy', activity: 'InACall' });
    const statusIo = testIo({}, elsewhere);
    expect(await main(['status', '--config', join('..', 'etc', 'presence-bridge', 'config.json'), '--user', 'alex'], statusIo)).toBe(EXIT.ok);
    expect(statusIo.stdout.text).toMatch(/^alex\s+Busy\/InACall$/m);
  });
});

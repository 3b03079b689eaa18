import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBridge } from '../../src/bridge.js';
import { validateConfig } from '../../src/configuration.js';
import { secretFilesOf, warnAboutReadableSecrets } from '../../src/files/secretFiles.js';
import { ManualClock } from '../../src/shared/clock.js';
import { emulatorConfig, emulatorOn, stopMovingClock, storageDir } from '../helpers/bridgeOnEmulator.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { capturingLogger } from '../helpers/logger.js';

/*
 * A client secret, a broker password or a private key in a file other local users can read is a
 * leaked secret on a shared machine (a Raspberry Pi with a guest account, a NAS). One warning per
 * such file at start, with the fix; nothing for a private file.
 */

const cleanups = cleanupAfterEach();

const AUTH = { mode: 'application', tenantId: '11111111-1111-1111-1111-111111111111', clientId: '22222222-2222-2222-2222-222222222222' } as const;
const USERS = [{ key: 'alex', id: 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3' }];

function config(block: Record<string, unknown>) {
  const checked = validateConfig({ platform: 'PresenceBridge', users: USERS, inputs: [], ...block });
  if (!checked.ok) throw new Error(checked.errors.join('; '));
  return checked.config;
}

describe('secret files readable by others', () => {
  it('lists the config file only when it holds a secret, and the key files it names', () => {
    expect(secretFilesOf(config({ auth: { ...AUTH, clientSecret: 's' } }), '/etc/pb.json')).toEqual([{ path: '/etc/pb.json', what: 'the config file (holds auth.clientSecret)' }]);
    expect(secretFilesOf(config({ auth: { ...AUTH, clientSecret: 's' } }))).toEqual([]);
    expect(secretFilesOf(config({ auth: { ...AUTH, certificate: { privateKeyFile: '/k.pem', thumbprint: 'AB' } } }), '/etc/pb.json')).toEqual([
      { path: '/k.pem', what: 'the private key file (auth.certificate.privateKeyFile)' },
    ]);
    expect(secretFilesOf(config({ auth: { ...AUTH, clientSecret: 's' }, mqtt: { url: 'mqtts://b:8883', password: 'p', key: '/m.key' } }), '/c.json')).toEqual([
      { path: '/c.json', what: 'the config file (holds auth.clientSecret and mqtt.password)' },
      { path: '/m.key', what: 'the private key file (mqtt.key)' },
    ]);
  });

  it('warns once per readable file, names who can read it and the fix, and is quiet for 0600 and on Windows', async () => {
    const dir = await storageDir('pb-secrets-', cleanups);
    const world = join(dir, 'world.json');
    const group = join(dir, 'group.pem');
    const own = join(dir, 'own.pem');
    for (const [file, mode] of [[world, 0o644], [group, 0o640], [own, 0o600]] as const) {
      await writeFile(file, 'x');
      await chmod(file, mode);
    }
    const files = [
      { path: world, what: 'the config file (holds auth.clientSecret)' },
      { path: group, what: 'the private key file (mqtt.key)' },
      { path: own, what: 'the private key file (auth.certificate.privateKeyFile)' },
      { path: world, what: 'the config file (holds auth.clientSecret)' },
      { path: join(dir, 'missing.pem'), what: 'the private key file (mqtt.key)' },
    ];
    const logger = capturingLogger();
    await warnAboutReadableSecrets(files, logger);
    expect(logger.lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      `the config file (holds auth.clientSecret) ${world} is readable by every local user (mode 0644); make it private: chmod 600 ${world}`,
      `the private key file (mqtt.key) ${group} is readable by its group (mode 0640); make it private: chmod 600 ${group}`,
    ]);
    const windows = capturingLogger();
    await warnAboutReadableSecrets(files, windows, 'win32');
    expect(windows.lines).toEqual([]);
  });

  it('the bridge warns at start about a world-readable config holding its client secret, once', async () => {
    const clock = new ManualClock();
    const emulator = await emulatorOn(clock, cleanups);
    const storage = await storageDir('pb-secrets-run-', cleanups);
    const cfg = emulatorConfig(emulator, { users: [{ key: 'alex', id: emulator.users[0]!.id }], graph: { pollSeconds: 0 } });
    const configFile = join(storage, 'config.json');
    await writeFile(configFile, JSON.stringify(cfg));
    await chmod(configFile, 0o644);
    const logger = capturingLogger();
    const bridge = createBridge(cfg, { logger, clock, storagePath: storage, configFile });
    await bridge.start();
    await stopMovingClock(bridge, clock);
    expect(logger.count('warn', /the config file \(holds auth\.clientSecret\) .*config\.json is readable by every local user \(mode 0644\); make it private: chmod 600/)).toBe(1);
    expect(logger.lines.some((l) => l.message.includes((cfg.auth as { clientSecret?: string }).clientSecret ?? '\u0000'))).toBe(false);

    // Made private: no warning on the next start.
    await chmod(configFile, 0o600);
    const quiet = capturingLogger();
    const again = createBridge(cfg, { logger: quiet, clock, storagePath: storage, configFile });
    await again.start();
    await stopMovingClock(again, clock);
    expect(quiet.count('warn', /readable by/)).toBe(0);
  });
});

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { EXIT, type CliIo } from '../../src/cli/command.js';
import { validateConfig } from '../../src/configuration.js';
import { readFileSync } from 'node:fs';
import { builtProduct } from '../helpers/builtProduct.js';
import { Collect } from '../helpers/collect.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/config');
const fixture = (name: string): string => join(FIXTURES, name);
const SECRETS = ['fixture-secret-value-not-real', 'fixture-mqtt-password'];

async function check(args: string[], cwd = ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Collect();
  const stderr = new Collect();
  const io: CliIo = { stdout, stderr, env: {}, cwd, interrupted: new Promise<void>(() => undefined) };
  const code = await main(['check-config', ...args], io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const dozenErrors = ((): string[] => {
  const result = validateConfig(JSON.parse(readFileSync(fixture('dozen-mistakes.json'), 'utf8')));
  if (result.ok) throw new Error('the dozen-mistakes fixture validates');
  return result.errors;
})();

describe('presence-bridge check-config (in process)', () => {
  it('summarises a valid platform block and exits 0', async () => {
    const r = await check([fixture('platform-block.json')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT.ok);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`${fixture('platform-block.json')}: valid`);
    for (const expected of [
      /^ {2}Graph +https:\/\/graph\.microsoft\.com\/v1\.0$/,
      /^ {2}Sign-in +https:\/\/login\.microsoftonline\.com\/8f1e2c3d-4b5a-4c6d-9e8f-0a1b2c3d4e5f$/,
      /^ {2}Auth +application, client secret \(set\); client 0d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a$/,
      /^Users \(2\)$/,
      /^ {2}alex +fa8bf3dc-eca7-46b7-bad1-db199b62afc3 +Alex Wilber$/,
      /^ {2}megan +megan\.bowen@contoso\.example$/,
      /^ {2}Desk button \(mqtt, topic zigbee2mqtt\/desk_button, field action\) for alex$/,
      /^ {4}single +-> toggle \(Busy\/InACall -> clear\)$/,
      /^ {4}double +-> Busy\/InAConferenceCall for 45 min$/,
      /^ {4}hold +-> DoNotDisturb\/Presenting for 30 min$/,
      /^ {2}Headset \(serial, port \/dev\/serial\/by-id\/usb-hook at 9600 baud\) for alex$/,
      /^ {4}OFFHOOK +-> Busy\/InACall$/,
      /^ {4}ONHOOK +-> clear$/,
      /^ {2}Door sensor \(mqtt, topic zigbee2mqtt\/megan_door, field contact\) for megan$/,
      /^ {2}Busy light \(serial, port \/dev\/serial\/by-id\/usb-light at 9600 baud\) shows megan$/,
      /^ {4}Busy +-> "RED\\n"$/,
      /^HomeKit: switches Busy\/InACall, DoNotDisturb\/Presenting; busy sensor on$/,
    ]) {
      expect(lines.some((l) => expected.test(l)), `a line matching ${expected}`).toBe(true);
    }
    expect(lines.length).toBeLessThanOrEqual(40); // one screen
    for (const secret of SECRETS) expect(r.stdout).not.toContain(secret);
  });

  it('picks the block of a whole Homebridge config.json and hides the broker password', async () => {
    const r = await check([fixture('homebridge-config.json')]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toContain('Teams presence: cloud global');
    expect(r.stdout).toContain('MQTT mqtts://broker.example:8883, user bridge (password set);');
    expect(r.stdout).toMatch(/^ {4}on +-> Busy\/InACall$/m);
    for (const secret of SECRETS) expect(r.stdout).not.toContain(secret);
  });

  it('lists every mistake as path: message under the file name, exit 2', async () => {
    const r = await check([fixture('dozen-mistakes.json')]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stdout).toBe('');
    expect(dozenErrors.length).toBeGreaterThanOrEqual(12);
    expect(r.stderr).toBe(`${fixture('dozen-mistakes.json')}: ${dozenErrors.length} problems in the PresenceBridge config\n${dozenErrors.join('\n')}\n`);
    expect(r.stderr).toContain('inputs[1].map.OFFHOOK: "Busy/Lunch" is not a presence setPresence accepts; use one of Available/Available, Busy/InACall');
    for (const secret of SECRETS) expect(r.stderr).not.toContain(secret);
  });

  it('names the file and the JSON error position, exit 2', async () => {
    const r = await check([fixture('bad-json.json')]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toBe(`${fixture('bad-json.json')}:6:3: invalid JSON: trailing comma before }\n`);
    expect(r.stderr).not.toContain('fixture-secret');
  });

  it('names a missing file as given, relative to the working directory', async () => {
    const r = await check(['no-such.json'], FIXTURES);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toBe('no-such.json: cannot read: no such file\n');
  });

  it('reads a relative path from the working directory and takes -c too', async () => {
    const r = await check(['-c', 'platform-block.json'], FIXTURES);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout.split('\n')[0]).toBe('platform-block.json: valid');
  });

  it('--json prints {ok, summary} for a valid file', async () => {
    const r = await check([fixture('platform-block.json'), '--json']);
    expect(r.code).toBe(EXIT.ok);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(true);
    expect(out.summary.users).toEqual([
      { key: 'alex', id: 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3', name: 'Alex Wilber' },
      { key: 'megan', id: 'megan.bowen@contoso.example' },
    ]);
    expect(out.summary.auth).toEqual({ mode: 'application', tenantId: '8f1e2c3d-4b5a-4c6d-9e8f-0a1b2c3d4e5f', clientId: '0d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a', credential: 'client secret (set)' });
    expect(out.summary.inputs[0].values).toEqual([
      { value: 'single', does: 'toggle (Busy/InACall -> clear)' },
      { value: 'double', does: 'Busy/InAConferenceCall for 45 min' },
      { value: 'hold', does: 'DoNotDisturb/Presenting for 30 min' },
    ]);
    expect(out.summary.graphBaseUrl).toBe('https://graph.microsoft.com/v1.0');
    for (const secret of SECRETS) expect(r.stdout).not.toContain(secret);
  });

  it('--json prints {ok, errors} for an invalid or unreadable file, exit 2', async () => {
    let r = await check(['--json', fixture('dozen-mistakes.json')]);
    expect(r.code).toBe(EXIT.usage);
    expect(JSON.parse(r.stdout)).toEqual({ ok: false, file: fixture('dozen-mistakes.json'), errors: dozenErrors });
    r = await check(['--json', fixture('bad-json.json')]);
    expect(r.code).toBe(EXIT.usage);
    expect(JSON.parse(r.stdout).errors).toEqual([`${fixture('bad-json.json')}:6:3: invalid JSON: trailing comma before }`]);
  });

  it.each([
    [[], 'which file? Give the config file to check'],
    [['a.json', 'b.json'], 'one file at a time (got 2: a.json, b.json)'],
    [['--jsn', 'a.json'], "Unknown option '--jsn'"],
  ])('refuses bad usage %j with exit 2', async (args, message) => {
    const r = await check(args);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain(`presence-bridge check-config: ${message}`);
    expect(r.stderr).toContain('Usage: presence-bridge check-config <file> [--json]');
  });

  describe('clouds', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'pb-check-cloud-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });
    const withChange = async (name: string, change: (c: Record<string, unknown>) => void): Promise<string> => {
      const config = JSON.parse(readFileSync(fixture('platform-block.json'), 'utf8')) as Record<string, unknown>;
      change(config);
      const file = join(dir, name);
      await writeFile(file, JSON.stringify(config));
      return file;
    };

    it('refuses cloud china with a clear sentence, exit 2', async () => {
      const file = await withChange('china.json', (c) => (c['cloud'] = 'china'));
      const r = await check([file]);
      expect(r.code).toBe(EXIT.usage);
      expect(r.stderr).toContain('cloud: Microsoft Graph presence does not exist in the China cloud (operated by 21Vianet)');
      expect(r.stdout).toBe('');
    });

    it('warns on the beta API outside the global cloud, exit 0', async () => {
      const file = await withChange('beta.json', (c) => {
        c['cloud'] = 'usgov';
        c['graph'] = { ...(c['graph'] as object), baseUrl: 'https://graph.microsoft.us/beta' };
      });
      const r = await check([file]);
      expect(r.code).toBe(EXIT.ok);
      expect(r.stderr).toBe('warning: graph.baseUrl: the beta presence API (setPresence included) is documented for the global cloud only, not usgov; use /v1.0\n');
      const global = await check([await withChange('beta-global.json', (c) => (c['graph'] = { ...(c['graph'] as object), baseUrl: 'https://graph.microsoft.com/beta' }))]);
      expect(global.stderr).toBe('');
    });

    it('says what a user given by user principal name needs', async () => {
      const r = await check([fixture('platform-block.json')]);
      expect(r.stdout).toContain('Note: user megan is given by user principal name: each is resolved once to its object id with GET /users/{upn}, which needs the application permission User.ReadBasic.All (or User.Read.All)');
    });
  });

  it('explains itself with --help', async () => {
    const r = await check(['--help']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toContain('Usage: presence-bridge check-config <file> [--json]');
    expect(r.stdout).toContain('whole Homebridge config.json');
    expect(r.stdout).toContain('exit 2');
  });
});

describe('presence-bridge check-config (built CLI, real process)', () => {
  let dir: string;
  let cli: string;

  beforeAll(async () => {
    // The CLI of the run's one build (test/setup/buildProduct.ts); this folder holds only test files.
    cli = builtProduct().cli;
    dir = await mkdtemp(join(tmpdir(), 'pb-check-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function spawnCli(args: string[], cwd = FIXTURES): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [cli, 'check-config', ...args], { cwd }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  it('exits 0 for a valid file', async () => {
    const r = await spawnCli(['platform-block.json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^platform-block\.json: valid\n/);
  });

  it('exits 2 with every problem and no stack trace for a config with a dozen mistakes', async () => {
    const r = await spawnCli(['dozen-mistakes.json']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([`dozen-mistakes.json: ${dozenErrors.length} problems in the PresenceBridge config`, ...dozenErrors]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 for bad JSON and for a missing file, no stack trace', async () => {
    let r = await spawnCli(['bad-json.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('bad-json.json:6:3: invalid JSON: trailing comma before }\n');
    r = await spawnCli([relative(FIXTURES, join(dir, 'missing.json'))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing\.json: cannot read: no such file\n$/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 for a directory and for a file that is JSON but not an object', async () => {
    const file = join(dir, 'list.json');
    await writeFile(file, '[1, 2]');
    let r = await spawnCli([file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`${file}: 1 problem in the PresenceBridge config\n(config): must be a JSON object, not a list\n`);
    r = await spawnCli([dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`${dir}: cannot read: is a directory, not a file\n`);
  });
});

import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { MIN_NODE, nodeVersionProblem } from '../../src/nodeVersion.js';
import { builtProduct, type ProductBuild } from '../helpers/builtProduct.js';
import { terminate } from '../helpers/childProcess.js';
import { REPO, tempDir } from '../homebridge/homebridgeRunner.js';

/** The machine's own Node (20 on this kind of machine), older than the bridge needs. */
const OLD_NODE = '/usr/bin/node';

describe('nodeVersionProblem', () => {
  it.each([
    ['20.20.2', true],
    ['22.18.1', true],
    ['22.19.0', false],
    ['22.23.5', false],
    ['24.0.0', false],
  ])('Node %s too old: %s', (version, tooOld) => {
    expect(nodeVersionProblem(version) !== undefined).toBe(tooOld);
  });

  it('names the version needed and the one found, in one sentence', () => {
    expect(nodeVersionProblem('20.20.2')).toBe('Presence Bridge needs Node.js 22.19 or newer, but this is Node.js 20.20.2; please update Node.js.');
  });

  it('asks for what package.json engines says', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(`>=${MIN_NODE.major}.${MIN_NODE.minor}.0`);
  });
});

describe('on an older Node (the machine\'s /usr/bin/node)', () => {
  let plugin: ProductBuild;
  let oldVersion = '';

  beforeAll(async () => {
    expect(existsSync(OLD_NODE), `${OLD_NODE} is the older Node this test runs the bridge with`).toBe(true);
    oldVersion = (await promisify(execFile)(OLD_NODE, ['-p', 'process.versions.node'])).stdout.trim();
    expect(nodeVersionProblem(oldVersion), `${OLD_NODE} is Node ${oldVersion}, not older than the bridge needs`).toBeDefined();
    plugin = builtProduct();
  });

  it('presence-bridge check-config prints one sentence naming the Node needed, and no stack trace', async () => {
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(OLD_NODE, [plugin.bin, 'check-config', join(REPO, 'test/fixtures/config/platform-block.json')], (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      });
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`presence-bridge: ${nodeVersionProblem(oldVersion)}\n`);
  });

  it('the plugin says the same in the Homebridge log instead of failing to load', async () => {
    const storage = await tempDir('pb-old-node-');
    try {
      await writeFile(
        join(storage, 'config.json'),
        JSON.stringify({
          bridge: { name: 'PB old node', username: '0E:3C:21:7A:AA:02', port: 0, pin: '031-45-154', bind: ['127.0.0.1'] },
          accessories: [],
          platforms: [{ platform: 'PresenceBridge', name: 'Presence Bridge', auth: { tenantId: 't', clientId: 'c', clientSecret: 's' }, users: [{ key: 'alex', id: 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3' }] }],
        }),
      );
      const child = spawn(OLD_NODE, [join(REPO, 'node_modules/homebridge/bin/homebridge.js'), '-U', storage, '-P', plugin.pluginPath, '--strict-plugin-resolution', '-Q'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, FORCE_COLOR: '0' },
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      try {
        await expect.poll(() => output, { timeout: 60_000, interval: 250 }).toContain(nodeVersionProblem(oldVersion));
      } finally {
        // wait for it to exit: Homebridge writes into its storage folder while it shuts down
        await terminate(child);
      }
      expect(output).not.toContain('ERROR LOADING PLUGIN');
      expect(output).not.toContain('TypeError');
      expect(output.split(nodeVersionProblem(oldVersion)!).length - 1).toBe(1);
    } finally {
      await rm(storage, { recursive: true, force: true });
    }
  }, 120_000);
});

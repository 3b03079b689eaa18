import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtProduct } from '../helpers/builtProduct.js';

const run = promisify(execFile);

// Recorded in the child: every module URL it resolved, printed as JSON when it exits.
const RECORDER = `
import { registerHooks } from 'node:module';
const seen = new Set();
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r; } });
process.on('exit', () => process.stdout.write(JSON.stringify([...seen])));
`;

/** The runtime modules of features a config may leave out: none may load until that feature starts. */
const RUNTIME_MODULES = [
  /node_modules\/prom-client\//,
  /node_modules\/mqtt\//,
  /\/dist\/metrics\/bridgeMetrics\.js$/,
  /\/dist\/metrics\/metricsFeature\.js$/,
  /\/dist\/mqtt\/index\.js$/,
  /\/dist\/mqtt\/mqttConnection\.js$/,
  /\/dist\/statusPage\/statusRoutes\.js$/,
  /\/dist\/statusPage\/statusPageFeature\.js$/,
];

describe('a feature whose section is absent loads none of its runtime modules (issue 16, memory)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pb-lazy-'));
    await writeFile(join(dir, 'recorder.mjs'), RECORDER);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Module URLs the built product resolves while `script` runs in a fresh process. */
  async function loadedBy(script: string): Promise<string[]> {
    const { stdout } = await run(process.execPath, ['--import', pathToFileURL(join(dir, 'recorder.mjs')).href, '--input-type=module', '-e', script], { cwd: dir });
    return JSON.parse(stdout) as string[];
  }

  it('the registry, config validation and the bridge load without prom-client, mqtt.js or the status page', async () => {
    const dist = pathToFileURL(join(builtProduct().packageDir, 'dist')).href;
    const config = { platform: 'PresenceBridge', auth: { mode: 'application', tenantId: 't', clientId: 'c', clientSecret: 's' }, users: [{ key: 'me', id: '00000000-0000-0000-0000-000000000001' }] };
    const loaded = await loadedBy(`
      await import('${dist}/features.js');
      await import('${dist}/bridge.js');
      const { validateConfig } = await import('${dist}/configuration.js');
      const result = validateConfig(${JSON.stringify(config)});
      if (!result.ok) throw new Error(result.errors.join('; '));
    `);
    // the recorder saw the product: the check below is not vacuous
    expect(loaded.some((url) => url.endsWith('/dist/features.js'))).toBe(true);
    expect(loaded.some((url) => url.endsWith('/dist/metrics/definition.js'))).toBe(true);
    expect(loaded.filter((url) => RUNTIME_MODULES.some((pattern) => pattern.test(url)))).toEqual([]);
  });

  it('the same modules do load once the feature code is asked for (the recorder sees them)', async () => {
    const dist = pathToFileURL(join(builtProduct().packageDir, 'dist')).href;
    const loaded = await loadedBy(`await import('${dist}/metrics/metricsFeature.js'); await import('${dist}/mqtt/index.js');`);
    expect(loaded.some((url) => /node_modules\/prom-client\//.test(url))).toBe(true);
    expect(loaded.some((url) => /node_modules\/mqtt\//.test(url))).toBe(true);
  });
});

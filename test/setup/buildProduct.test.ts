import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtProduct } from '../helpers/builtProduct.js';
import { buildHash, REPO } from '../helpers/productBuild.js';

describe('the one build of a test run', () => {
  it('is of the tree under test, in test-output/, never dist/', async () => {
    const build = builtProduct();
    expect(relative(REPO, build.pluginPath)).toBe(join('test-output', `build-${await buildHash()}`));
    expect(basename(build.packageDir)).toBe('homebridge-presence-bridge');
    expect(relative(build.packageDir, build.cli)).toBe(join('dist', 'cli', 'main.js'));
    expect(relative(build.packageDir, build.bin)).toBe(join('dist', 'cli', 'bin.js'));
  });

  it('is a whole package: the entry points, the custom UI, the package.json of the tree', async () => {
    const build = builtProduct();
    for (const file of ['dist/index.js', 'dist/cli/main.js', 'dist/cli/bin.js', 'homebridge-ui/server.js', 'node_modules/mqtt/package.json']) {
      expect(existsSync(join(build.packageDir, file)), file).toBe(true);
    }
    expect(await readFile(join(build.packageDir, 'package.json'), 'utf8')).toBe(await readFile(join(REPO, 'package.json'), 'utf8'));
    expect(existsSync(join(build.pluginPath, '.complete'))).toBe(true);
  });
});

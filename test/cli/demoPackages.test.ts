import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PACKAGES } from '../../src/cli/demoPackages.js';
import { builtProduct, type ProductBuild } from '../helpers/builtProduct.js';

/*
 * aedes, selfsigned and @peculiar/x509 serve only the demo and the emulator, so they are
 * devDependencies: a Homebridge user does not download them. The built plugin and CLI run in an
 * install without them (simulated by a module hook that finds none of them, as in
 * `npm install --omit=dev`), and the demo and the emulator say what to install.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

describe('demo-only packages', () => {
  it('are devDependencies, not dependencies', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    for (const name of DEMO_PACKAGES) {
      expect(pkg.dependencies[name], name).toBeUndefined();
      expect(pkg.devDependencies[name], name).toBeDefined();
    }
  });

  describe('an install without them (built package, real processes)', () => {
    let dir: string;
    let register: string;
    let built: ProductBuild;

    beforeAll(async () => {
      // The run's one build; only the hook that hides the packages lives in this test's folder.
      built = builtProduct();
      dir = await mkdtemp(join(tmpdir(), 'pb-no-demo-packages-'));
      const pattern = DEMO_PACKAGES.map((n) => n.replace('/', '\\/')).join('|');
      await writeFile(
        join(dir, 'hooks.mjs'),
        `export async function resolve(specifier, context, next) {
  if (/^(${pattern})(\\/|$)/.test(specifier)) {
    const error = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}
`,
      );
      register = join(dir, 'register.mjs');
      await writeFile(register, `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`);
    });
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    async function node(args: string[]): Promise<Result> {
      return run(process.execPath, ['--import', register, ...args], { cwd: dir, timeout: 30_000 }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: typeof error.code === 'number' ? error.code : -1, stdout: error.stdout ?? '', stderr: error.stderr ?? '' }),
      );
    }

    it('the hook really hides them', async () => {
      const r = await node(['--input-type=module', '-e', "await import('selfsigned')"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("Cannot find package 'selfsigned'");
    });

    it('the plugin entry loads and the CLI answers', async () => {
      const plugin = await node(['--input-type=module', '-e', `const m = await import(${JSON.stringify(join(built.packageDir, 'dist/index.js'))}); if (typeof m.default !== 'function') throw new Error('no plugin initializer');`]);
      expect(plugin.stderr).toBe('');
      expect(plugin.code).toBe(0);
      const help = await node([built.cli, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('demo');
      const demoHelp = await node([built.cli, 'demo', '--help']);
      expect(demoHelp.code).toBe(0);
      expect(demoHelp.stdout).toContain('default 60');
    });

    it('demo and emulator exit 1 naming the packages and how to get them', async () => {
      for (const command of ['demo', 'emulator']) {
        const r = await node([built.cli, command]);
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toContain(`presence-bridge ${command}: presence-bridge ${command} needs the packages aedes, selfsigned, @peculiar/x509`);
        expect(r.stderr).toContain('`npm install` brings them');
        expect(r.stderr).toContain('npm install aedes selfsigned @peculiar/x509');
        expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
      }
    });
  });
});

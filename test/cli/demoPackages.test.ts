import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PACKAGES } from '../../src/cli/demoPackages.js';

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

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'pb-no-demo-packages-'));
      await copyFile(join(ROOT, 'package.json'), join(dir, 'package.json'));
      await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
      const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
      // tsc emits even when a file elsewhere in the tree has a type error; dist/ is what counts.
      await run(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')], { cwd: ROOT, maxBuffer: 16 << 20 }).catch(() => undefined);
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
    }, 180_000);
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
      const plugin = await node(['--input-type=module', '-e', `const m = await import(${JSON.stringify(join(dir, 'dist/index.js'))}); if (typeof m.default !== 'function') throw new Error('no plugin initializer');`]);
      expect(plugin.stderr).toBe('');
      expect(plugin.code).toBe(0);
      const help = await node([join(dir, 'dist/cli/main.js'), '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('demo');
      const demoHelp = await node([join(dir, 'dist/cli/main.js'), 'demo', '--help']);
      expect(demoHelp.code).toBe(0);
      expect(demoHelp.stdout).toContain('default 60');
    });

    it('demo and emulator exit 1 naming the packages and how to get them', async () => {
      for (const command of ['demo', 'emulator']) {
        const r = await node([join(dir, 'dist/cli/main.js'), command]);
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toContain(`presence-bridge ${command}: presence-bridge ${command} needs the packages aedes, selfsigned, @peculiar/x509`);
        expect(r.stderr).toContain('`npm install` brings them');
        expect(r.stderr).toContain('npm install aedes selfsigned @peculiar/x509');
        expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
      }
    });
  });
});

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, copyFile, cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';

/**
 * The product compiled once for a whole test run (by the global setup, test/setup/buildProduct.ts)
 * into a private package folder under test-output/, never dist/. Tests read it with
 * `builtProduct()` (test/helpers/builtProduct.ts) and must not write into it.
 */
export interface ProductBuild {
  /** The folder to give Homebridge's `-P`: it holds only `homebridge-presence-bridge/`. */
  readonly pluginPath: string;
  /** The package itself: package.json, dist/, homebridge-ui/, config.schema.json, node_modules (a link to the repo's). */
  readonly packageDir: string;
  /** dist/cli/main.js: run with `node` as `presence-bridge` runs. */
  readonly cli: string;
  /** dist/cli/bin.js: the `bin` entry (checks the Node version first). */
  readonly bin: string;
}

export const REPO = resolve(import.meta.dirname, '..', '..');
const PACKAGE = 'homebridge-presence-bridge';
const MARKER = '.complete';
/** Builds of other source trees are removed once this old (a run still using one has long finished). */
const STALE_MS = 6 * 60 * 60 * 1000;

/** Every file whose content changes the build: the sources, what is copied beside dist/, the compiler. */
async function buildInputs(): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push(path);
    }
  };
  await walk(join(REPO, 'src'));
  await walk(join(REPO, 'homebridge-ui'));
  for (const name of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'config.schema.json', 'node_modules/typescript/package.json']) {
    const path = join(REPO, name);
    if (await exists(path)) files.push(path);
  }
  return files.sort();
}

/** A hash of the build's inputs: the same tree reuses its build (a second run, the Node 24 run in CI). */
export async function buildHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of await buildInputs()) {
    hash.update(relative(REPO, file)).update('\0').update(await readFile(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

function layout(pluginPath: string): ProductBuild {
  const packageDir = join(pluginPath, PACKAGE);
  return { pluginPath, packageDir, cli: join(packageDir, 'dist', 'cli', 'main.js'), bin: join(packageDir, 'dist', 'cli', 'bin.js') };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function compile(outDir: string): Promise<{ code: number; output: string }> {
  const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  return new Promise((resolveRun) => {
    execFile(process.execPath, [tsc, '-p', join(REPO, 'tsconfig.build.json'), '--outDir', outDir], { cwd: REPO, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolveRun({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** Lays out the package in `staging` (a fresh folder) and compiles into it; throws when tsc emitted no entry point. */
async function assemble(staging: string): Promise<{ warnings: string }> {
  const packageDir = join(staging, PACKAGE);
  await mkdir(packageDir, { recursive: true });
  await copyFile(join(REPO, 'package.json'), join(packageDir, 'package.json'));
  await symlink(join(REPO, 'node_modules'), join(packageDir, 'node_modules'), 'dir');
  // Copied, not linked: homebridge-ui/server.js finds ../dist relative to its real path.
  await cp(join(REPO, 'homebridge-ui'), join(packageDir, 'homebridge-ui'), { recursive: true });
  if (await exists(join(REPO, 'config.schema.json'))) await copyFile(join(REPO, 'config.schema.json'), join(packageDir, 'config.schema.json'));
  const { code, output } = await compile(join(packageDir, 'dist'));
  const built = layout(staging);
  for (const entry of [join(packageDir, 'dist', 'index.js'), built.cli, built.bin]) {
    if (!(await exists(entry))) throw new Error(`tsc -p tsconfig.build.json emitted no ${relative(staging, entry)} (exit ${code}):\n${output}`);
  }
  // tsc emits despite a type error: the caller decides whether that fails the build.
  return { warnings: code === 0 ? '' : output };
}

/** Removes builds of other source trees and abandoned staging folders, once they are stale. */
async function prune(outputDir: string, keep: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(outputDir).catch(() => [])) {
    if (!/^(build-[0-9a-f]+|\.build-.+)$/.test(name) || join(outputDir, name) === keep) continue;
    const info = await stat(join(outputDir, name)).catch(() => undefined);
    if (info && now - info.mtimeMs > STALE_MS) await rm(join(outputDir, name), { recursive: true, force: true });
  }
}

/**
 * The product built into test-output/build-<hash of its inputs>/: compiled when that folder does
 * not exist yet, reused when it does. Built in a staging folder and renamed into place, so two runs
 * in one worktree never see half a build. When tsc reports errors but emits, `strict` fails the
 * build (CI: the package must build cleanly) and otherwise `log` receives the errors.
 */
export async function buildProduct(options: { readonly strict: boolean; readonly log: (text: string) => void }): Promise<ProductBuild & { readonly compiled: boolean }> {
  const outputDir = join(REPO, 'test-output');
  const final = join(outputDir, `build-${await buildHash()}`);
  await mkdir(outputDir, { recursive: true });
  if (await exists(join(final, MARKER))) {
    const errors = await readFile(join(final, MARKER), 'utf8');
    if (options.strict && errors !== '') throw new Error(`tsc -p tsconfig.build.json failed (build reused from ${final}):\n${errors}`);
    return { ...layout(final), compiled: false };
  }
  const staging = await mkdtemp(join(outputDir, '.build-'));
  try {
    const { warnings } = await assemble(staging);
    if (warnings && options.strict) throw new Error(`tsc -p tsconfig.build.json failed:\n${warnings}`);
    if (warnings) options.log(`tsc reported errors but emitted the product; tests run on it:\n${warnings}`);
    // The marker holds tsc's errors (empty for a clean build), so a strict run never reuses a build that had some.
    await writeFile(join(staging, MARKER), warnings);
    await rename(staging, final).catch(async (error: NodeJS.ErrnoException) => {
      // Another run in this worktree finished the same build first: use theirs.
      if (!(await exists(join(final, MARKER)))) throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  await prune(outputDir, final);
  return { ...layout(final), compiled: true };
}

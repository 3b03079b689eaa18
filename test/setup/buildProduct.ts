import type { TestProject } from 'vitest/node';
import { buildProduct } from '../helpers/productBuild.js';

/**
 * Vitest global setup: compiles the product ONCE per run (or reuses the build of an unchanged
 * tree) for every test that runs the CLI or Homebridge, and hands its paths to them (`builtProduct()`).
 * With CI set (.ci/run sets it) a tsc error fails the run, as `npm run build` would; locally the
 * tests run on what tsc emitted and the errors are printed.
 */
export default async function setup(project: TestProject): Promise<void> {
  const started = Date.now();
  const strict = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
  const build = await buildProduct({ strict, log: (text) => process.stderr.write(`${text}\n`) });
  if (build.compiled) process.stderr.write(`test setup: product compiled into ${build.pluginPath} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  project.provide('builtProduct', { pluginPath: build.pluginPath, packageDir: build.packageDir, cli: build.cli, bin: build.bin });
}

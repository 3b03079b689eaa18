import { inject } from 'vitest';
import type { ProductBuild } from './productBuild.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The product compiled once for the run by test/setup/buildProduct.ts. */
    builtProduct: ProductBuild;
  }
}

export type { ProductBuild };

/**
 * The product compiled once for this test run (a private package folder under test-output/,
 * never dist/): the CLI to spawn, the plugin folder to give Homebridge. Read-only: a test that
 * needs to change the package copies what it needs into its own folder.
 */
export function builtProduct(): ProductBuild {
  return inject('builtProduct');
}

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Compiles the product once for every test that runs the CLI or Homebridge (test/helpers/builtProduct.ts).
    globalSetup: ['test/setup/buildProduct.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});

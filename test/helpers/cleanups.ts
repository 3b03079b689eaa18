import { afterEach } from 'vitest';

export type Cleanup = () => Promise<unknown>;

/**
 * A list to push cleanups on; after each test (of the file or the describe it is called in) they
 * run last-in first-out and the list is emptied. A cleanup that throws fails the test.
 */
export function cleanupAfterEach(): Cleanup[] {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return cleanups;
}

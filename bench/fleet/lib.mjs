// Shared parts of the fleet sizing benchmark (issue 19): the build's location, a clock for long
// simulations, sliding-window counts and formatting.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DIST = process.env.PRESENCE_BRIDGE_DIST ?? join(ROOT, 'dist');
export const WORK = join(ROOT, 'bench/.work/fleet');
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const START = Date.UTC(2026, 0, 5, 8, 0, 0);
export { QuantumClock } from '../lib/quantumClock.mjs';

export function requireBuild() {
  for (const f of ['cli/main.js', 'emulator/index.js', 'fleet/index.js']) {
    if (!existsSync(join(DIST, f))) throw new Error(`no build in ${DIST}: run npm run build first`);
  }
}

export const load = (file) => import(pathToFileURL(join(DIST, file)).href);

export function commit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}


/** The largest number of the sorted times in any window of `windowMs` (sliding). */
export function maxInWindow(sortedTimes, windowMs = 30_000) {
  let max = 0;
  for (let i = 0, j = 0; i < sortedTimes.length; i++) {
    while (sortedTimes[i] - sortedTimes[j] >= windowMs) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

export const fmt = (n, digits = 1) => (n === null || n === undefined || Number.isNaN(n) ? '-' : Number(n.toFixed(digits)).toLocaleString('en-US'));
export const int = (n) => Math.round(n).toLocaleString('en-US');

import { describe, expect, it } from 'vitest';
import { sourceTree } from './sourceTree.js';

/**
 * No function in src/ has a body longer than 80 lines (braces included; a nested function counts
 * toward its outer one too, as it does when reading). A test rather than ESLint's
 * `max-lines-per-function`: the allowlist below names each exception with the engineer splitting
 * it and fails when an entry is stale, in one place, instead of disable comments scattered in
 * files other people own; and it shares the TypeScript parse with the other architecture tests.
 */
const MAX_BODY_LINES = 80;

/** `file#function` being split right now (issue 17); the integrator empties this list after merging. */
const BEING_SPLIT: Readonly<Record<string, string>> = {
  'src/config/load.ts#locateJsonError': 'h17cfg',
  'src/statusPage/statusServer.ts#startStatusServer': 'h17http',
  'src/cli/commands/run.ts#createRunCommand': 'h17http',
  'src/emulator/index.ts#startEmulator': 'h19fleet',
  'src/emulator/index.ts#control': 'h19fleet',
  'src/emulator/index.ts#handle': 'h19fleet',
  'src/emulator/graphApi.ts#handleGraph': 'h19fleet',
};

function longFunctions(): Map<string, number> {
  const long = new Map<string, number>();
  for (const file of sourceTree()) {
    for (const fn of file.functions) {
      if (fn.bodyLines > MAX_BODY_LINES) long.set(`${file.path}#${fn.name}`, fn.bodyLines);
    }
  }
  return long;
}

describe('function length', () => {
  it(`no function in src/ has a body over ${MAX_BODY_LINES} lines, outside the named allowlist`, () => {
    const over = [...longFunctions()].filter(([key]) => !(key in BEING_SPLIT)).map(([key, lines]) => `${key}: ${lines} lines`);
    expect(over).toEqual([]);
  });

  it('every allowlisted function is still over the limit (a stale entry must go)', () => {
    const long = longFunctions();
    expect(Object.keys(BEING_SPLIT).filter((key) => !long.has(key))).toEqual([]);
  });

  it('the parser measures bodies: a known short function is short and the longest is long', () => {
    const all = sourceTree().flatMap((f) => f.functions.map((fn) => ({ ...fn, file: f.path })));
    const clock = all.find((f) => f.file === 'src/shared/clock.ts' && f.name === 'ManualClock.now');
    expect(clock?.bodyLines).toBeLessThanOrEqual(3);
    expect(Math.max(...all.map((f) => f.bodyLines))).toBeGreaterThan(MAX_BODY_LINES);
  });
});

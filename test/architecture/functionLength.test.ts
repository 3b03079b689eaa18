import { describe, expect, it } from 'vitest';
import { sourceTree } from './sourceTree.js';

/**
 * No function in src/ has a body longer than 80 lines (braces included; a nested function counts
 * toward its outer one too, as it does when reading). A test rather than ESLint's
 * `max-lines-per-function`: it measures the same bodies the layer and cycle tests parse, and it
 * has no exceptions to hide in disable comments (generated tables are data, not functions).
 */
const MAX_BODY_LINES = 80;

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
  it(`no function in src/ has a body over ${MAX_BODY_LINES} lines`, () => {
    const over = [...longFunctions()].map(([key, lines]) => `${key}: ${lines} lines`);
    expect(over).toEqual([]);
  });

  it('the parser measures bodies: a known short function is short and long ones are seen', () => {
    const all = sourceTree().flatMap((f) => f.functions.map((fn) => ({ ...fn, file: f.path })));
    const clock = all.find((f) => f.file === 'src/shared/clock.ts' && f.name === 'ManualClock.now');
    expect(clock?.bodyLines).toBeLessThanOrEqual(3);
    // the longest functions left are a good part of the limit: a parser that saw only stubs would fail here
    expect(Math.max(...all.map((f) => f.bodyLines))).toBeGreaterThan(MAX_BODY_LINES / 2);
  });
});

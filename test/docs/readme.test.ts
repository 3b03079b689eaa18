import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/configuration.js';
import { COMMANDS } from '../../src/cli/main.js';

// The README is the user's door: what it shows must be what the code accepts.
const REPO = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

function codeBlocks(lang: string): string[] {
  return [...readme.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1] ?? '');
}

describe('README', () => {
  it('shows a config block that validates, with placeholders filled in', () => {
    const blocks = codeBlocks('json');
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      const raw: unknown = JSON.parse(block.replaceAll('"…"', '"00000000-0000-0000-0000-000000000001"'));
      const result = validateConfig(raw);
      expect(result.ok ? [] : result.errors).toEqual([]);
    }
  });

  it('names only commands and options that presence-bridge has', () => {
    const lines = readme.split('\n').filter((line) => /^\s*presence-bridge [a-z]/.test(line) || /`presence-bridge [a-z-]+/.test(line));
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      for (const use of line.matchAll(/presence-bridge ([a-z-]+)([^`#\n]*)/g)) {
        const name = use[1]!;
        const command = COMMANDS.find((c) => c.name === name);
        expect(command, `README mentions "presence-bridge ${name}"`).toBeDefined();
        for (const option of (use[2] ?? '').matchAll(/--[a-z][a-z-]*/g)) {
          if (option[0] === '--help') continue;
          expect(command!.help, `${name} help lists ${option[0]}`).toContain(option[0]);
        }
      }
    }
  });

  it('names only npm scripts that exist', () => {
    const scripts = [...readme.matchAll(/npm run ([a-z:-]+)/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) expect(Object.keys(pkg.scripts), `npm run ${script}`).toContain(script);
    expect(readme).toContain('npm test');
    expect(readme).toContain('npm start');
    expect(pkg.scripts.test).toBe('vitest run');
  });

  it('links only files that exist', () => {
    for (const link of readme.matchAll(/\]\(((?:docs|examples|BENCHMARKS|RELIABILITY)[^)#]*)\)/g)) {
      expect(() => readFileSync(join(REPO, link[1]!.replace(/\/$/, '')), { flag: 'r' }), link[1]).not.toThrow(/ENOENT/);
    }
  });
});

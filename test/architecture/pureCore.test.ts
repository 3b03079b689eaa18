import { describe, expect, it } from 'vitest';
import { sourceTree } from './sourceTree.js';

/**
 * src/presence is the pure core (mapping, arbiter, renewal schedule, rate limits): it takes time
 * from an injected clock and does no I/O, so it is tested with tables of cases. It may import
 * only its own files, the shared clock's types and the error base class (src/shared/errors.ts).
 */
const IO_MODULES = [
  /^(node:)?(fs|fs\/promises|net|tls|http|https|http2|dgram|dns|child_process|cluster|worker_threads|readline|os|process|timers|timers\/promises)$/,
  /^undici$/,
  /^mqtt$/,
  /^serialport$/,
  /^@serialport\//,
  /^homebridge$/,
  /^hap-nodejs$/,
  /^@azure\//,
];

describe('src/presence is pure', () => {
  it('imports no I/O module (fs, net, http, timers, undici, mqtt, serialport, homebridge, MSAL)', () => {
    const io: string[] = [];
    const files = sourceTree().filter((f) => f.path.startsWith('src/presence/'));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      for (const edge of file.imports) {
        if (IO_MODULES.some((pattern) => pattern.test(edge.specifier))) io.push(`${file.path}:${edge.line} imports ${edge.specifier}`);
      }
    }
    expect(io).toEqual([]);
  });

  it('imports nothing outside src/presence but the clock\'s types (time is injected) and the error base class', () => {
    const outside: string[] = [];
    for (const file of sourceTree().filter((f) => f.path.startsWith('src/presence/'))) {
      for (const edge of file.imports) {
        if (edge.target === undefined || edge.target.startsWith('src/presence/')) continue;
        if (edge.target === 'src/shared/clock.ts' && edge.typeOnly) continue;
        if (edge.target === 'src/shared/errors.ts') continue;
        outside.push(`${file.path}:${edge.line} imports ${edge.target}${edge.typeOnly ? ' (type)' : ''}`);
      }
    }
    expect(outside).toEqual([]);
  });

  it('the I/O patterns catch what they are meant to', () => {
    for (const name of ['node:fs', 'fs/promises', 'node:net', 'undici', 'mqtt', 'serialport', '@serialport/binding-mock', '@azure/msal-node', 'node:timers/promises']) {
      expect(IO_MODULES.some((p) => p.test(name)), name).toBe(true);
    }
    for (const name of ['zod', 'node:path', './intent.js']) expect(IO_MODULES.some((p) => p.test(name)), name).toBe(false);
  });
});

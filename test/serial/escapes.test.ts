import { describe, expect, it } from 'vitest';
import { decodeEscapes } from '../../src/serial/escapes.js';

describe('decodeEscapes', () => {
  it.each([
    { typed: 'RED\\n', meant: 'RED\n' },
    { typed: 'RED\n', meant: 'RED\n' },
    { typed: 'A\\r\\n', meant: 'A\r\n' },
    { typed: '\\t|\\0', meant: '\t|\0' },
    { typed: '\\x1b[31m\\x0A', meant: '\u001b[31m\n' },
    { typed: 'C:\\\\path', meant: 'C:\\path' },
    { typed: '\\\\n', meant: '\\n' },
    { typed: 'odd \\q and \\x4 stay', meant: 'odd \\q and \\x4 stay' },
    { typed: 'trailing \\', meant: 'trailing \\' },
    { typed: '', meant: '' },
  ])('$typed', ({ typed, meant }) => {
    expect(decodeEscapes(typed)).toBe(meant);
  });
});

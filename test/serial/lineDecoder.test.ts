import { describe, expect, it } from 'vitest';
import { LineDecoder, type LineDecoderOptions } from '../../src/serial/lineDecoder.js';

/** Feed `input` cut at the given byte offsets; return every line and the over-long reports. */
function decode(input: Buffer | string, cuts: number[], options: LineDecoderOptions = {}): { lines: string[]; overlong: number } {
  let overlong = 0;
  const decoder = new LineDecoder({ ...options, onOverlong: () => overlong++ });
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const lines: string[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    lines.push(...decoder.push(bytes.subarray(start, cut)));
    start = cut;
  }
  return { lines, overlong };
}

/** Every way to cut `text` into two pieces, and into single bytes. */
function allChunkings(length: number): number[][] {
  const out: number[][] = [[]];
  for (let i = 1; i < length; i++) out.push([i]);
  out.push(Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1));
  return out;
}

describe('LineDecoder', () => {
  const table: { name: string; input: string; options?: LineDecoderOptions; lines: string[] }[] = [
    { name: 'newline lines', input: 'OFFHOOK\nONHOOK\n', lines: ['OFFHOOK', 'ONHOOK'] },
    { name: 'CRLF from Serial.println', input: 'OFFHOOK\r\nONHOOK\r\n', lines: ['OFFHOOK', 'ONHOOK'] },
    { name: 'incomplete last line is held', input: 'OFFHOOK\nONHO', lines: ['OFFHOOK'] },
    { name: 'blank lines are skipped', input: '\n\r\nA\n  \nB\n', lines: ['A', 'B'] },
    { name: 'JSON lines pass through whole', input: '{"hook":"off"}\r\n', lines: ['{"hook":"off"}'] },
    { name: 'custom delimiter', input: 'A;B;C', options: { delimiter: ';' }, lines: ['A', 'B'] },
    { name: 'multi-byte delimiter', input: 'A<>B<>C<', options: { delimiter: '<>' }, lines: ['A', 'B'] },
    { name: 'a CR delimiter keeps other bytes', input: 'A\rB\r', options: { delimiter: '\r' }, lines: ['A', 'B'] },
    { name: 'only one trailing CR stripped', input: 'A\r\r\n', lines: ['A\r'] },
    { name: 'multi-byte characters', input: 'Grüße\n日本\n', lines: ['Grüße', '日本'] },
    { name: 'latin1', input: 'caf\u00e9\n', options: { encoding: 'latin1' }, lines: ['caf\u00e9'] },
  ];

  for (const row of table) {
    it(`${row.name}: same lines however the bytes are chunked`, () => {
      const bytes = Buffer.from(row.input, row.options?.encoding ?? 'utf8');
      for (const cuts of allChunkings(bytes.length)) {
        expect(decode(bytes, cuts, row.options).lines, `cuts ${cuts.join(',')}`).toEqual(row.lines);
      }
    });
  }

  it('merged buffers: many lines in one chunk', () => {
    const input = Array.from({ length: 500 }, (_, i) => `L${i}\r\n`).join('');
    const { lines } = decode(input, []);
    expect(lines).toHaveLength(500);
    expect(lines[499]).toBe('L499');
  });

  it('invalid bytes become replacement characters and never throw', () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x41, 0xc3, 0x0a, 0x80, 0x42, 0x0a, 0x00, 0x0a]);
    for (const cuts of allChunkings(bytes.length)) {
      const { lines } = decode(bytes, cuts);
      expect(lines).toEqual(['\uFFFD\uFFFDA\uFFFD', '\uFFFDB', '\u0000']);
    }
  });

  const overlongTable: { name: string; cuts: (n: number) => number[] }[] = [
    { name: 'in one chunk', cuts: () => [] },
    { name: 'in two chunks', cuts: (n) => [Math.floor(n / 2)] },
    { name: 'in 100-byte chunks', cuts: (n) => Array.from({ length: Math.floor(n / 100) }, (_, i) => (i + 1) * 100) },
  ];
  for (const row of overlongTable) {
    it(`drops an over-long line once and keeps decoding after it (${row.name})`, () => {
      const input = `BEFORE\n${'x'.repeat(5000)}\nAFTER\r\n`;
      const { lines, overlong } = decode(input, row.cuts(input.length), { maxLineBytes: 1000 });
      expect(lines).toEqual(['BEFORE', 'AFTER']);
      expect(overlong).toBe(1);
    });
  }

  it('a line of exactly the limit passes, one byte more does not', () => {
    for (const cuts of allChunkings(12)) {
      expect(decode('abcd\r\nabcde\n', cuts, { maxLineBytes: 4 })).toEqual({ lines: ['abcd'], overlong: 1 });
    }
  });

  it('a 1 MB line in 64 KiB chunks costs bounded memory and is reported once', () => {
    const decoder = new LineDecoder({ maxLineBytes: 4096, onOverlong: () => reports++ });
    let reports = 0;
    const chunk = Buffer.alloc(65_536, 0x61);
    const lines: string[] = [];
    for (let i = 0; i < 16; i++) lines.push(...decoder.push(chunk));
    lines.push(...decoder.push(Buffer.from('\nOFFHOOK\n')));
    expect(lines).toEqual(['OFFHOOK']);
    expect(reports).toBe(1);
  });

  it('reset forgets a partial line', () => {
    const decoder = new LineDecoder();
    expect(decoder.push(Buffer.from('OFFH'))).toEqual([]);
    decoder.reset();
    expect(decoder.push(Buffer.from('ONHOOK\n'))).toEqual(['ONHOOK']);
  });

  it('does not keep a reference to the caller\'s chunk', () => {
    const decoder = new LineDecoder();
    const chunk = Buffer.from('OFF');
    decoder.push(chunk);
    chunk.write('XYZ');
    expect(decoder.push(Buffer.from('HOOK\n'))).toEqual(['OFFHOOK']);
  });
});

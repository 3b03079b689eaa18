/**
 * Bytes to lines, as a pure transform: the port lifecycle lives in serialPortLink.ts, this file
 * only cuts a byte stream into text lines. Lines are cut on bytes before they are decoded, so a
 * multi-byte character split across two reads comes out whole; invalid bytes decode to U+FFFD
 * and never throw.
 */

export type LineEncoding = 'utf8' | 'ascii' | 'latin1';

/** Lines longer than this (in bytes, without the delimiter) are dropped unless configured. */
export const DEFAULT_MAX_LINE_BYTES = 4096;

export interface OverlongLine {
  /** The limit that was passed. */
  readonly maxLineBytes: number;
}

export interface LineDecoderOptions {
  /** What ends a line; default `\n`, with one trailing `\r` stripped (so `\r\n` works too). */
  readonly delimiter?: string;
  readonly encoding?: LineEncoding;
  readonly maxLineBytes?: number;
  /** Called once per over-long line, when it passes the limit; the rest of it is skipped. */
  readonly onOverlong?: (info: OverlongLine) => void;
}

const CR = 0x0d;

export class LineDecoder {
  private readonly delimiter: Buffer;
  private readonly encoding: LineEncoding;
  private readonly maxLineBytes: number;
  private readonly stripCarriageReturn: boolean;
  private readonly onOverlong: ((info: OverlongLine) => void) | undefined;
  /** Bytes a partial line may hold beyond the limit: a partial delimiter and a trailing \r. */
  private readonly slack: number;
  /** Bytes of the line being read (never more than the limit plus the delimiter). */
  private pending: Buffer = Buffer.alloc(0);
  /** True while skipping the rest of an over-long line, up to its delimiter. */
  private discarding = false;

  constructor(options: LineDecoderOptions = {}) {
    const delimiter = options.delimiter ?? '\n';
    if (delimiter.length === 0) throw new RangeError('line delimiter must not be empty');
    this.encoding = options.encoding ?? 'utf8';
    this.delimiter = Buffer.from(delimiter, this.encoding);
    this.maxLineBytes = Math.max(1, options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    this.stripCarriageReturn = delimiter === '\n';
    this.onOverlong = options.onOverlong;
    this.slack = this.delimiter.length - 1 + (this.stripCarriageReturn ? 1 : 0);
  }

  /** Feed one chunk of bytes; returns the complete lines it finished, in order. */
  push(chunk: Uint8Array): string[] {
    const lines: string[] = [];
    if (chunk.length === 0) return lines;
    let buffer = this.pending.length === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length) : Buffer.concat([this.pending, chunk]);
    // A delimiter may straddle the previous chunk and this one; search from just before the seam.
    let searchFrom = Math.max(0, this.pending.length - (this.delimiter.length - 1));
    for (;;) {
      const end = buffer.indexOf(this.delimiter, searchFrom);
      if (end < 0) break;
      if (this.discarding) {
        this.discarding = false;
      } else {
        const line = this.decode(buffer.subarray(0, end));
        if (line !== undefined) lines.push(line);
      }
      buffer = buffer.subarray(end + this.delimiter.length);
      searchFrom = 0;
    }
    if (this.discarding) {
      // Keep only what could be the start of the delimiter.
      this.pending = Buffer.from(buffer.subarray(Math.max(0, buffer.length - (this.delimiter.length - 1))));
    } else if (buffer.length > this.maxLineBytes + this.slack) {
      this.discarding = true;
      this.onOverlong?.({ maxLineBytes: this.maxLineBytes });
      this.pending = Buffer.from(buffer.subarray(Math.max(0, buffer.length - (this.delimiter.length - 1))));
    } else {
      // Copy: the caller may reuse the chunk's memory (serialport reads into a shared pool).
      this.pending = Buffer.from(buffer);
    }
    return lines;
  }

  /** Forget a partial line (the device went away mid-line). */
  reset(): void {
    this.pending = Buffer.alloc(0);
    this.discarding = false;
  }

  private decode(bytes: Buffer): string | undefined {
    let body = bytes;
    if (this.stripCarriageReturn && body.length > 0 && body[body.length - 1] === CR) body = body.subarray(0, body.length - 1);
    if (body.length > this.maxLineBytes) {
      // Whole line arrived in one chunk and is over the limit.
      this.onOverlong?.({ maxLineBytes: this.maxLineBytes });
      return undefined;
    }
    const text = body.toString(this.encoding);
    // Blank lines (keep-alives, the \n after a \r delimiter) carry no value.
    return text.trim() === '' ? undefined : text;
  }
}

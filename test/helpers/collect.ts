import { Writable } from 'node:stream';

/** A Writable that keeps everything written to it as text (a CLI's stdout or stderr in tests). */
export class Collect extends Writable {
  text = '';
  /** Set by a test to make the stream look like a terminal. */
  isTTY?: boolean;
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

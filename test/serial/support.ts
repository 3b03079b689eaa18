import { SerialPort } from 'serialport';
import type { Cleanup } from '../helpers/cleanups.js';
import { createPtyPair, type PtyPair } from '../helpers/socat.js';

/** The test's end of a PTY pair: plays the device (writes lines, collects what it is sent). */
export class DeviceEnd {
  received = '';
  private constructor(private readonly port: SerialPort) {
    port.on('data', (chunk: Buffer) => {
      this.received += chunk.toString('latin1');
    });
    port.on('error', () => undefined);
  }

  static async open(path: string): Promise<DeviceEnd> {
    const port = new SerialPort({ path, baudRate: 9600, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    return new DeviceEnd(port);
  }

  async write(data: string | Buffer): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.port.write(data, (error) => (error ? reject(error) : resolve()));
    });
    await new Promise<void>((resolve, reject) => this.port.drain((error) => (error ? reject(error) : resolve())));
  }

  async close(): Promise<void> {
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}

/** `pair()` opens a socat PTY pair and `device(path)` the test's end of one; both are closed by `cleanups`. */
export function serialPeers(cleanups: Cleanup[]): { pair: () => Promise<PtyPair>; device: (path: string) => Promise<DeviceEnd> } {
  return {
    pair: async () => {
      const p = await createPtyPair();
      cleanups.push(() => p.close());
      return p;
    },
    device: async (path) => {
      const d = await DeviceEnd.open(path);
      cleanups.push(() => d.close());
      return d;
    },
  };
}

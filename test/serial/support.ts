import { SerialPort } from 'serialport';
import type { Bridge, BridgeEvents, UserState } from '../../src/bridgeTypes.js';
import { TypedEvents } from '../../src/events.js';
import type { Logger } from '../../src/logger.js';
import type { Signal } from '../../src/presence/intent.js';

/**
 * An in-process stand-in for the Bridge that records what the serial feature tells it, and lets
 * a test emit user states. Not a protocol boundary: the serial ports under it are real PTYs.
 */
export class RecordingBridge implements Bridge {
  readonly events: TypedEvents<BridgeEvents>;
  readonly signals: Signal[] = [];
  readonly disconnects: string[] = [];
  private readonly current = new Map<string, UserState>();

  constructor(logger: Logger) {
    this.events = new TypedEvents<BridgeEvents>(logger);
  }

  signal(signal: Signal): void {
    this.signals.push(signal);
  }
  inputDisconnected(input: string): void {
    this.disconnects.push(input);
  }
  setIntent(): void {}
  prefer(): Promise<void> {
    return Promise.resolve();
  }
  states(): UserState[] {
    return [...this.current.values()];
  }
  state(userKey: string): UserState | undefined {
    return this.current.get(userKey);
  }
  start(): Promise<void> {
    return Promise.resolve();
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }

  /** Publish a user state, as the core does on every change. */
  emitState(state: UserState): void {
    this.current.set(state.userKey, state);
    this.events.emit('state', state);
  }

  values(input?: string): string[] {
    return this.signals.filter((s) => input === undefined || s.input === input).map((s) => s.value);
  }
}

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

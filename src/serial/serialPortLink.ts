import type { SerialPort } from 'serialport';
import { TypedEvents } from '../events.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import { retryDelay } from '../presence/retryDelay.js';
import { hangupAwareBinding } from './hangupAwareBinding.js';
import type { Clock, TimerHandle } from '../shared/clock.js';

/**
 * One serial device, kept open: a missing device at start, an unplug (the port closes with a
 * `disconnected` error) or a failed open all lead to reopening with backoff until the device is
 * back. The loss is logged once and the recovery once; the attempts in between at debug level.
 * Bytes go out as `data`; cutting them into lines is the decoder's job (lineDecoder.ts).
 */

export interface SerialPortLinkEvents {
  data: Buffer;
  /** The port is open; `recovered` is true when it had been lost or missing before. */
  connected: { readonly recovered: boolean };
  /** An open port went away (unplug, device reset, read error). */
  disconnected: { readonly reason: string };
  /** The port could not be opened at start (the device is missing); reopening goes on. */
  missing: { readonly reason: string };
}

/** Milliseconds to wait before reopen attempt number `attempt` (1-based). */
export type ReconnectDelay = (attempt: number) => number;

export const RECONNECT_BASE_MS = 500;
/** A replugged headset sensor should be heard again within seconds, so the cap stays small. */
export const RECONNECT_MAX_MS = 10_000;

/**
 * A port must stay open this long before the backoff starts over: a loose cable that connects
 * and drops again at once gets ever longer pauses, not a reopen every half second.
 */
export const STABLE_OPEN_MS = 30_000;

/** Exponential backoff with equal jitter (the Graph retry's, with a smaller base and cap). */
export function serialReconnectDelay(attempt: number, random: () => number = Math.random): number {
  return retryDelay({ attempt, random, baseMs: RECONNECT_BASE_MS, capMs: RECONNECT_MAX_MS });
}

type SerialPortClass = typeof SerialPort;
/** What opens, reads and writes ports: the detected native binding, or one a test or host gives. */
export type SerialBinding = SerialPortClass['binding'];
interface SerialPortKit {
  readonly SerialPort: SerialPortClass;
  readonly binding: SerialBinding;
}
let serialPortKit: Promise<SerialPortKit> | undefined;

/**
 * serialport loads a native binding when imported; loading it on first use means a platform
 * without a working binding only loses serial ports, not the whole plugin.
 */
function loadSerialPort(): Promise<SerialPortKit> {
  serialPortKit ??= import('serialport').then((module) => ({
    SerialPort: module.SerialPort,
    binding: hangupAwareBinding(module.SerialPort.binding),
  }));
  return serialPortKit;
}

export interface SerialPortLinkOptions {
  readonly path: string;
  readonly baudRate: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly reconnectDelay?: ReconnectDelay;
  /**
   * The binding to open the port with, used as given. By default the platform's native binding,
   * loaded on first use and made to notice hang-ups (hangupAwareBinding.ts). An in-memory binding
   * (@serialport/binding-mock) lets a test drive the link without a PTY.
   */
  readonly binding?: SerialBinding;
}

type LinkState = 'idle' | 'opening' | 'open' | 'waiting' | 'stopped';

export class SerialPortLink {
  readonly events: TypedEvents<SerialPortLinkEvents>;
  readonly path: string;
  private readonly baudRate: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly reconnectDelay: ReconnectDelay;
  private readonly binding: SerialBinding | undefined;
  private state: LinkState = 'idle';
  private port: SerialPort | undefined;
  private timer: TimerHandle | undefined;
  /** Reopen attempts since the port last stayed open for {@link STABLE_OPEN_MS}. */
  private attempt = 0;
  private openedAt = 0;
  /** A loss (or a missing device) was logged and its recovery not yet. */
  private lost = false;
  private everOpened = false;
  /** Settles when an open in flight has finished (and, once stopped, closed again). */
  private openSettled: Promise<void> = Promise.resolve();

  constructor(options: SerialPortLinkOptions) {
    this.path = options.path;
    this.baudRate = options.baudRate;
    this.clock = options.clock;
    this.logger = options.logger;
    this.reconnectDelay = options.reconnectDelay ?? ((attempt) => serialReconnectDelay(attempt));
    this.binding = options.binding;
    this.events = new TypedEvents<SerialPortLinkEvents>(options.logger);
  }

  get connected(): boolean {
    return this.state === 'open';
  }

  /** Start opening; never throws and never rejects: failures are retried. */
  start(): void {
    if (this.state !== 'idle') return;
    this.open();
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const port = this.port;
    this.port = undefined;
    await this.openSettled;
    if (port?.isOpen) {
      await new Promise<void>((resolve) => {
        port.close((error) => {
          if (error) this.logger.debug(`closing ${this.path}: ${errorMessage(error)}`);
          resolve();
        });
      });
    }
    this.events.removeAll();
  }

  /** Write text to the device. Returns false (and writes nothing) while the port is not open. */
  write(text: string): boolean {
    const port = this.port;
    if (this.state !== 'open' || !port) return false;
    port.write(text, (error) => {
      // A failed write on an unplugged device also closes the port; the close handler reopens.
      if (error) this.logger.debug(`write to ${this.path} failed: ${errorMessage(error)}`);
    });
    return true;
  }

  private open(): void {
    this.state = 'opening';
    loadSerialPort().then(
      (kit) => {
        if (this.state === 'opening') this.openWith(this.binding === undefined ? kit : { SerialPort: kit.SerialPort, binding: this.binding });
      },
      (error: unknown) => {
        if (this.state === 'opening') this.openFailed(new Error(`serial ports are unavailable on this system: ${errorMessage(error)}`));
      },
    );
  }

  private openWith(kit: SerialPortKit): void {
    let port: SerialPort;
    try {
      // `binding` is a SerialPortStream option that SerialPort's type leaves out but honours.
      const options = { path: this.path, baudRate: this.baudRate, autoOpen: false, binding: kit.binding };
      port = new kit.SerialPort(options);
    } catch (error) {
      this.openFailed(error);
      return;
    }
    this.port = port;
    port.on('data', (chunk: Buffer) => {
      if (this.port === port) this.events.emit('data', chunk);
    });
    // Without a listener an 'error' event would crash the process; the close handler acts on it.
    port.on('error', (error: Error) => this.logger.debug(`${this.path}: ${errorMessage(error)}`));
    port.on('close', (error: Error | null) => this.closed(port, error));
    port.on('end', () => {
      // End of stream without a read error: treat as a disconnect and reopen.
      if (this.port === port && port.isOpen) port.close();
    });
    let settle: () => void = () => undefined;
    this.openSettled = new Promise<void>((resolve) => (settle = resolve));
    port.open((error) => {
      if (this.port !== port || this.state === 'stopped') {
        if (!error && port.isOpen) port.close(() => settle());
        else settle();
        return;
      }
      settle();
      if (error) {
        this.port = undefined;
        port.removeAllListeners('data');
        this.openFailed(error);
      } else {
        this.opened();
      }
    });
  }

  private opened(): void {
    const recovered = this.lost;
    this.state = 'open';
    this.openedAt = this.clock.now();
    this.lost = false;
    this.everOpened = true;
    if (recovered) this.logger.info(`${this.path} is back`);
    else this.logger.info(`opened ${this.path}`);
    this.events.emit('connected', { recovered });
  }

  private openFailed(error: unknown): void {
    if (!this.lost) {
      this.lost = true;
      this.logger.warn(`cannot open ${this.path}: ${errorMessage(error)}; retrying until it appears`);
      if (!this.everOpened) {
        this.scheduleReopen();
        this.events.emit('missing', { reason: errorMessage(error) });
        return;
      }
    } else {
      this.logger.debug(`still cannot open ${this.path}: ${errorMessage(error)}`);
    }
    this.scheduleReopen();
  }

  private closed(port: SerialPort, error: Error | null): void {
    if (this.port !== port || this.state === 'stopped') return;
    this.port = undefined;
    port.removeAllListeners('data');
    if (this.clock.now() - this.openedAt >= STABLE_OPEN_MS) this.attempt = 0;
    const reason = error ? errorMessage(error) : 'port closed';
    if (!this.lost) {
      this.lost = true;
      this.logger.warn(`${this.path} disconnected (${reason}); reopening until it is back`);
    }
    this.scheduleReopen();
    this.events.emit('disconnected', { reason });
  }

  private scheduleReopen(): void {
    this.state = 'waiting';
    this.attempt++;
    const delay = this.reconnectDelay(this.attempt);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.state === 'waiting') this.open();
    }, delay);
  }
}

import type { SignalSink } from '../bridgeTypes.js';
import type { SerialInputConfig } from './configSchema.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../shared/clock.js';
import { decodeEscapes } from './escapes.js';
import { LineDecoder } from './lineDecoder.js';
import type { SerialPortLink } from './serialPortLink.js';

export interface SerialInputsOptions {
  readonly link: SerialPortLink;
  /** The inputs reading this port (one port may feed several inputs). */
  readonly inputs: readonly SerialInputConfig[];
  readonly sink: SignalSink;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly maxLineBytes?: number;
}

/** At most one over-long-line warning per port in this long; the rest are counted. */
export const OVERLONG_WARN_INTERVAL_MS = 60_000;

interface DecoderGroup {
  readonly decoder: LineDecoder;
  readonly inputs: string[];
}

/**
 * The inputs of one serial port: every line becomes a signal of each input reading it, raw (the
 * bridge's mapping applies `field`, `map` and `toggle`); a disconnect is reported per input so
 * the bridge can apply its `onDisconnect`. Inputs with the same delimiter and encoding share a
 * decoder.
 */
export class SerialInputs {
  private readonly groups: DecoderGroup[] = [];
  private readonly unsubscribe: (() => void)[] = [];
  private lastOverlongWarnAt: number | undefined;
  private overlongSuppressed = 0;

  constructor(private readonly options: SerialInputsOptions) {}

  start(): void {
    const { link } = this.options;
    const byFormat = new Map<string, DecoderGroup>();
    for (const input of this.options.inputs) {
      const delimiter = decodeEscapes(input.delimiter);
      const key = `${input.encoding}\u0000${delimiter}`;
      let group = byFormat.get(key);
      if (!group) {
        group = {
          decoder: new LineDecoder({
            delimiter,
            encoding: input.encoding,
            maxLineBytes: this.options.maxLineBytes,
            onOverlong: ({ maxLineBytes }) => {
              this.options.sink.dropped?.({ source: 'serial', input: group?.inputs[0] ?? null, reason: 'lineTooLong' });
              this.overlong(maxLineBytes);
            },
          }),
          inputs: [],
        };
        byFormat.set(key, group);
        this.groups.push(group);
      }
      group.inputs.push(input.name);
    }
    this.unsubscribe.push(
      link.events.on('data', (chunk) => this.onData(chunk)),
      link.events.on('disconnected', () => this.onDisconnected()),
      link.events.on('connected', () => this.askForState()),
      // Missing at start: what the input said before a restart (restored) must not outlive a
      // device that is gone, so its onDisconnect applies as for an unplug.
      link.events.on('missing', () => {
        for (const input of this.options.inputs) this.options.sink.inputDisconnected(input.name);
      }),
    );
  }

  /**
   * A device that reports only on change says nothing after the bridge (or the port) restarts;
   * one that can be asked gets its inputs' `queryOnOpen` line on every open, and its answer is
   * an ordinary signal.
   */
  private askForState(): void {
    const queries = new Set<string>();
    for (const input of this.options.inputs) if (input.queryOnOpen !== undefined) queries.add(decodeEscapes(input.queryOnOpen));
    for (const query of queries) {
      if (this.options.link.write(query)) this.options.logger.debug(`${this.options.link.path}: asked for the state with ${JSON.stringify(query)}`);
    }
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    this.groups.length = 0;
  }

  private onData(chunk: Buffer): void {
    const { sink, clock, logger, link } = this.options;
    for (const group of this.groups) {
      for (const line of group.decoder.push(chunk)) {
        logger.debug(`${link.path}: ${JSON.stringify(line.length > 200 ? `${line.slice(0, 200)}…` : line)}`);
        const at = clock.now();
        for (const input of group.inputs) sink.signal({ input, value: line, at });
      }
    }
  }

  /** A device stuck sending junk (wrong baud rate, binary mode) must not flood the log. */
  private overlong(maxLineBytes: number): void {
    const now = this.options.clock.now();
    if (this.lastOverlongWarnAt !== undefined && now - this.lastOverlongWarnAt < OVERLONG_WARN_INTERVAL_MS) {
      this.overlongSuppressed++;
      return;
    }
    const more = this.overlongSuppressed > 0 ? ` (and ${this.overlongSuppressed} more since the last warning)` : '';
    this.options.logger.warn(`${this.options.link.path}: dropped a line longer than ${maxLineBytes} bytes${more}; check the baud rate and line delimiter`);
    this.lastOverlongWarnAt = now;
    this.overlongSuppressed = 0;
  }

  private onDisconnected(): void {
    for (const group of this.groups) {
      // A line cut by the unplug must not be glued to the first line after the replug.
      group.decoder.reset();
      for (const input of group.inputs) this.options.sink.inputDisconnected(input);
    }
  }
}

import type { Bridge, UserState } from '../bridgeTypes.js';
import type { SerialOutputConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { decodeEscapes } from './escapes.js';
import { LineDecoder } from './lineDecoder.js';
import type { SerialPortLink } from './serialPortLink.js';

/**
 * A light that resets when its port opens (an Arduino does) misses the line written on connect;
 * it prints this line once it is ready and gets the current line again.
 */
export const READY_LINE = 'READY';

/** What the light shows when nothing is known: no read-back and no session asserted. */
export const UNKNOWN_AVAILABILITY = 'PresenceUnknown';

/**
 * The availability a busy light should show for a user: Graph's read-back when there is one,
 * else what our session asserts (confirmed by Graph, or still on its way), else PresenceUnknown.
 */
export function availabilityToShow(state: UserState | undefined): string {
  if (!state) return UNKNOWN_AVAILABILITY;
  return state.actual?.availability ?? state.confirmed?.availability ?? state.desired?.availability ?? UNKNOWN_AVAILABILITY;
}

/**
 * The template line for an availability. Keys match case-insensitively; `AvailableIdle` and
 * `BusyIdle` fall back to `Available` and `Busy`; then `default`. When nothing is known
 * (PresenceUnknown) and neither it nor `default` has a line, `Offline`'s line is used, so a
 * cleared presence turns the light off rather than leaving it on.
 */
export function templateFor(templates: Readonly<Record<string, string>>, availability: string): string | undefined {
  const lookup = new Map(Object.entries(templates).map(([key, line]) => [key.toLowerCase(), line]));
  const wanted = availability.toLowerCase();
  const candidates = [wanted];
  if (wanted.endsWith('idle')) candidates.push(wanted.slice(0, -'idle'.length));
  candidates.push('default');
  if (wanted === UNKNOWN_AVAILABILITY.toLowerCase()) candidates.push('offline');
  for (const key of candidates) {
    const line = lookup.get(key);
    if (line !== undefined) return line;
  }
  return undefined;
}

export interface BusyLightOutputOptions {
  readonly link: SerialPortLink;
  readonly output: SerialOutputConfig;
  readonly userKey: string;
  readonly bridge: Pick<Bridge, 'events' | 'state'>;
  readonly logger: Logger;
}

/**
 * A serial busy light: writes the template line for the user's availability on every change,
 * never the same line twice in a row, and the current one again after the port reconnects (the
 * device may have reset and lost it) or when the light says READY.
 */
export class BusyLightOutput {
  private lastWritten: string | undefined;
  private current: UserState | undefined;
  private missingTemplateLogged = new Set<string>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly decoder = new LineDecoder({ maxLineBytes: 256 });

  constructor(private readonly options: BusyLightOutputOptions) {}

  start(): void {
    const { bridge, link, userKey } = this.options;
    this.current = bridge.state(userKey);
    this.unsubscribe.push(
      bridge.events.on('state', (state) => {
        if (state.userKey !== userKey) return;
        this.current = state;
        this.show();
      }),
      link.events.on('connected', () => {
        this.lastWritten = undefined;
        this.show();
      }),
      link.events.on('disconnected', () => {
        this.lastWritten = undefined;
        this.decoder.reset();
      }),
      link.events.on('data', (chunk) => {
        for (const line of this.decoder.push(chunk)) {
          if (line.trim().toUpperCase() !== READY_LINE) continue;
          this.lastWritten = undefined;
          this.show();
        }
      }),
    );
    this.show();
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  private show(): void {
    const { link, output, logger } = this.options;
    const availability = availabilityToShow(this.current);
    const template = templateFor(output.templates, availability);
    const line = template === undefined ? undefined : decodeEscapes(template);
    if (line === undefined) {
      if (!this.missingTemplateLogged.has(availability)) {
        this.missingTemplateLogged.add(availability);
        logger.warn(`output "${output.name}" has no template for ${availability} and no "default"; the light keeps its last line`);
      }
      return;
    }
    if (line === this.lastWritten) return;
    if (link.write(line)) {
      this.lastWritten = line;
      logger.debug(`output "${output.name}": ${availability} -> ${JSON.stringify(line)}`);
    }
  }
}

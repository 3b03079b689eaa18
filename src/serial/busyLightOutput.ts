import type { FeatureBridge, UserState } from '../bridgeTypes.js';
import type { ObservedPresence } from '../presence/presencePair.js';
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
 * The availability a busy light should show for a user, fed every state of that user in order.
 *
 * Graph's read-back (`actual`) is what Teams shows, overrides included, but it is only as fresh
 * as the last poll (60 s by default): right after a hook sensor changes what we assert, it still
 * shows the old presence. So a read-back counts only when it arrived after our asserted
 * availability last changed; until then the light shows what we assert (confirmed by Graph, or
 * on its way), and with nothing asserted, PresenceUnknown. A new read-back is recognised by
 * identity: the publisher keeps the same `actual` object in every state until the next poll.
 */
export class ShownAvailability {
  private started = false;
  private asserted: string | null = null;
  private staleActual: ObservedPresence | null = null;

  next(state: UserState | undefined): string {
    if (!state) return UNKNOWN_AVAILABILITY;
    const pair = state.confirmed ?? state.desired;
    const asserted = pair?.availability ?? null;
    if (!this.started) {
      this.started = true;
      this.asserted = asserted;
    } else if (asserted !== this.asserted) {
      this.asserted = asserted;
      this.staleActual = state.actual;
    }
    if (state.actual && state.actual !== this.staleActual) return state.actual.availability;
    return asserted ?? UNKNOWN_AVAILABILITY;
  }
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
  readonly bridge: Pick<FeatureBridge, 'events' | 'state'>;
  readonly logger: Logger;
}

/**
 * A serial busy light: writes the template line for the user's availability on every change,
 * never the same line twice in a row, and the current one again after the port reconnects (the
 * device may have reset and lost it) or when the light says READY.
 */
export class BusyLightOutput {
  private lastWritten: string | undefined;
  private availability = UNKNOWN_AVAILABILITY;
  private readonly shown = new ShownAvailability();
  private readonly missingTemplateLogged = new Set<string>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly decoder = new LineDecoder({ maxLineBytes: 256 });

  constructor(private readonly options: BusyLightOutputOptions) {}

  start(): void {
    const { bridge, link, userKey } = this.options;
    this.availability = this.shown.next(bridge.state(userKey));
    this.unsubscribe.push(
      bridge.events.on('state', (state) => {
        if (state.userKey !== userKey) return;
        this.availability = this.shown.next(state);
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
    const availability = this.availability;
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

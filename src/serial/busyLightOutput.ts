import type { FeatureBridge } from '../feature.js';
import type { SerialOutputConfig } from './configSchema.js';
import { ShownAvailability, templateFor, UNKNOWN_AVAILABILITY } from '../presence/availabilityTemplate.js';
import type { Logger } from '../logger.js';
import { decodeEscapes } from './escapes.js';
import { LineDecoder } from './lineDecoder.js';
import type { SerialPortLink } from './serialPortLink.js';

/**
 * A light that resets when its port opens (an Arduino does) misses the line written on connect;
 * it prints this line once it is ready and gets the current line again.
 */
export const READY_LINE = 'READY';

// Moved down so the HTTP light output shares them; re-exported for existing importers.
export { ShownAvailability, templateFor, UNKNOWN_AVAILABILITY };

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

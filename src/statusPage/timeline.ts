import type { GraphCallEvent, SignalEvent } from '../bridgeTypes.js';
import { formatPresence } from '../presence/presencePair.js';

/** One line of the status page's timeline. Text fields are plain text; the page never parses them as HTML. */
export interface TimelineEntry {
  /** Increases with every new entry; a coalesced entry keeps its id and is sent again. */
  readonly id: number;
  /** When it happened, on the bridge's clock (ms since epoch). */
  at: number;
  readonly kind: 'signal' | 'graphCall';
  readonly userKey: string | null;
  /** Short label: the input name, or the Graph operation. */
  readonly title: string;
  /** What it carried and what came of it. */
  readonly detail: string;
  readonly ok: boolean;
  /** How many identical successive entries this one stands for (read-back polls repeat). */
  count: number;
}

/** Longest payload excerpt shown; the rest is cut (payloads are whatever a device sent). */
export const MAX_DETAIL_CHARS = 200;
export const DEFAULT_TIMELINE_SIZE = 200;

function excerpt(text: string): string {
  const oneLine = text.replace(/[\r\n\t]+/g, ' ');
  return oneLine.length > MAX_DETAIL_CHARS ? `${oneLine.slice(0, MAX_DETAIL_CHARS)}…` : oneLine;
}

/**
 * A bounded ring of recent signals and Graph calls. Successive successful read-back polls are
 * folded into one entry with a count, so a fast poll does not push everything else out.
 */
export class Timeline {
  private readonly entries: TimelineEntry[] = [];
  private nextId = 1;

  /**
   * @param timeScale how much faster than real time the bridge's clock runs (the demo's); call
   *   durations are shown in real milliseconds.
   */
  constructor(
    private readonly capacity: number = DEFAULT_TIMELINE_SIZE,
    private readonly timeScale: number = 1,
  ) {}

  list(): TimelineEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  addSignal(event: SignalEvent): TimelineEntry {
    const { signal, intent } = event;
    const outcome = intent === null ? 'ignored (maps to nothing)' : intent.kind === 'clear' ? 'clear' : formatPresence(intent.pair);
    return this.push({
      at: signal.at,
      kind: 'signal',
      userKey: event.userKey,
      title: signal.input,
      detail: `${JSON.stringify(excerpt(signal.value))} → ${outcome}`,
      ok: intent !== null,
    });
  }

  addGraphCall(event: GraphCallEvent): TimelineEntry {
    const last = this.entries[this.entries.length - 1];
    if (event.ok && event.operation === 'getPresences' && last && last.kind === 'graphCall' && last.ok && last.title === 'getPresences') {
      last.count += 1;
      last.at = event.startedAt;
      return { ...last };
    }
    const result = event.ok ? `ok${event.status ? ` ${event.status}` : ''}` : `failed${event.status ? ` ${event.status}` : ''}${event.errorCode ? ` ${event.errorCode}` : ''}`;
    return this.push({
      at: event.startedAt,
      kind: 'graphCall',
      userKey: event.userKey,
      title: event.operation,
      detail: `${event.detail ? `${event.detail} ` : ''}${result} (${Math.round(event.durationMs / this.timeScale)} ms)`,
      ok: event.ok,
    });
  }

  private push(entry: Omit<TimelineEntry, 'id' | 'count'>): TimelineEntry {
    const full: TimelineEntry = { ...entry, id: this.nextId++, count: 1 };
    this.entries.push(full);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    return { ...full };
  }
}

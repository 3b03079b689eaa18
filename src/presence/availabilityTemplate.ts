import type { ObservedPresence, PresencePair } from './presencePair.js';

/** The parts of a user's state (src/bridgeTypes.ts UserState) that decide what a light shows. */
export interface ShownState {
  readonly desired: PresencePair | null;
  readonly confirmed: PresencePair | null;
  readonly actual: ObservedPresence | null;
}

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

  next(state: ShownState | undefined): string {
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

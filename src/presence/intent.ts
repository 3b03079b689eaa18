import type { PresencePair } from './presencePair.js';

/**
 * What a device said: the raw value of one input, already cut out of its transport (an MQTT
 * payload as text, one serial line, a HomeKit switch's on/off as "on"/"off").
 */
export interface Signal {
  /** Name of the configured input (or a built-in one: `mqtt-command`, `homekit`). */
  readonly input: string;
  readonly value: string;
  /** Milliseconds since the epoch, from the injected clock. */
  readonly at: number;
}

/**
 * What one input wants for one user.
 * - `set`: assert `pair`; `until` (ms since epoch) ends it by itself when present.
 * - `clear`: this input no longer asks for anything.
 */
export type Intent =
  | { readonly kind: 'set'; readonly pair: PresencePair; readonly at: number; readonly until?: number }
  | { readonly kind: 'clear'; readonly at: number };

/** The one state the arbiter picked for a user: a pair and the input it came from, or clear. */
export type DesiredState =
  | { readonly kind: 'set'; readonly pair: PresencePair; readonly source: string; readonly until?: number }
  | { readonly kind: 'clear' };

export const CLEAR: DesiredState = { kind: 'clear' };

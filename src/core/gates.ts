import type { GateInput, PresenceGate } from '../feature.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import type { DesiredState } from '../presence/intent.js';
import { CLEAR } from '../presence/intent.js';
import type { ActiveIntent } from '../presence/presenceArbiter.js';
import { parseSessionPair } from '../presence/presencePair.js';

/** Which gate changed what a user's inputs want, and why (UserState.gated). */
export interface GateNote {
  readonly gate: string;
  readonly note: string;
}

export interface GatedDesired {
  readonly desired: DesiredState;
  /** The last gate that changed the outcome, or null when every gate let it through. */
  readonly gated: GateNote | null;
}

export interface GateRun {
  readonly userKey: string;
  readonly desired: DesiredState;
  /** Only read when there is a gate: the arbiter's ranked intents. */
  readonly intents: () => readonly ActiveIntent[];
  readonly now: number;
  readonly logger: Logger;
}

function toInput(userKey: string, desired: DesiredState, intents: readonly ActiveIntent[]): GateInput {
  return desired.kind === 'set'
    ? { userKey, desired: desired.pair, source: desired.source, intents }
    : { userKey, desired: null, source: null, intents };
}

/** A gate's answer as the publisher takes it; undefined when the gate returned a pair no session can hold. */
function toDesired(result: { desired: { availability: string; activity: string } | null; source: string | null }, before: DesiredState): DesiredState | undefined {
  if (result.desired === null) return CLEAR;
  const pair = parseSessionPair(`${result.desired.availability}/${result.desired.activity}`);
  if (!pair) return undefined;
  const next: DesiredState = { kind: 'set', pair, source: result.source ?? 'gate' };
  // unchanged: keep the arbiter's answer as is (its `until` included)
  return sameOutcome(next, before) ? before : next;
}

function sameOutcome(a: DesiredState, b: DesiredState): boolean {
  if (a.kind === 'clear' || b.kind === 'clear') return a.kind === b.kind;
  return a.source === b.source && a.pair.availability === b.pair.availability && a.pair.activity === b.pair.activity;
}

/**
 * Runs the arbiter's answer through every gate in order (issue 17 item 4). A gate that throws or
 * answers a pair no presence session can hold is logged and let through, so one faulty gate never
 * stops presence from flowing.
 */
export function applyGates(gates: readonly PresenceGate[], run: GateRun): GatedDesired {
  if (gates.length === 0) return { desired: run.desired, gated: null };
  const intents = run.intents();
  let desired = run.desired;
  let gated: GateNote | null = null;
  for (const gate of gates) {
    try {
      const result = gate.apply(toInput(run.userKey, desired, intents), run.now);
      const next = toDesired(result, desired);
      if (!next) {
        run.logger.error(`gate "${gate.name}": ${run.userKey}: ${result.desired?.availability ?? ''}/${result.desired?.activity ?? ''} is no presence a session can hold; let through`);
        continue;
      }
      if (!sameOutcome(next, desired)) gated = { gate: gate.name, note: result.note ?? 'held back' };
      desired = next;
    } catch (error) {
      run.logger.error(`gate "${gate.name}": ${run.userKey}: ${errorMessage(error)}; let through`);
    }
  }
  return { desired, gated };
}

/** The earliest moment after `now` at which any gate's answer for the user may change, if any. */
export function nextGateChange(gates: readonly PresenceGate[], userKey: string, now: number, logger: Logger): number | undefined {
  let next: number | undefined;
  for (const gate of gates) {
    try {
      const at = gate.nextChangeAt(userKey, now);
      // a boundary at or before now would wake the user in a loop: the answer is already current
      if (at !== null && Number.isFinite(at) && at > now && (next === undefined || at < next)) next = at;
    } catch (error) {
      logger.error(`gate "${gate.name}": ${userKey}: ${errorMessage(error)}`);
    }
  }
  return next;
}

/** The earlier of two optional times. */
export function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

import type { GateInput, GateResult, PresenceGate } from '../feature.js';
import { isOpenAt, nextChangeAfter } from './schedule.js';
import type { UserHours } from './schema.js';

export const GATE_NAME = 'workingHours';
export const OUTSIDE_NOTE = 'outside working hours';

/** What the gate needs from the config: each gated user's hours and the inputs that work at any hour. */
export interface WorkingHoursSlice {
  /** Users with working hours switched on; a user not in the map is never gated. */
  readonly users: ReadonlyMap<string, UserHours>;
  readonly exemptInputs: ReadonlySet<string>;
}

/** A user's schedule between two edges: open or not from `from` until `next` (null: never changes). */
interface CachedEdge {
  readonly from: number;
  readonly next: number | null;
  readonly open: boolean;
}

/**
 * Working hours between the arbiter and the publisher (pure; time comes from `now`). Inside a
 * window, or outside with `outside: inputsWork`, it lets everything through. Outside with
 * `outside: clear` it drops every intent of a non-exempt input: the best exempt intent still
 * wins, and with none the session is cleared, noted `outside working hours`.
 */
export class WorkingHoursGate implements PresenceGate {
  readonly name = GATE_NAME;
  private readonly edges = new Map<string, CachedEdge>();

  constructor(private readonly slice: WorkingHoursSlice) {}

  /** Whether the user is inside a window at `now` (true for a user without working hours). */
  isOpen(userKey: string, now: number): boolean {
    const hours = this.slice.users.get(userKey);
    return !hours || this.edge(userKey, hours, now).open;
  }

  apply(input: GateInput, now: number): GateResult {
    const pass: GateResult = { desired: input.desired, source: input.source, note: null };
    const hours = this.slice.users.get(input.userKey);
    if (!hours || hours.outside !== 'clear' || this.edge(input.userKey, hours, now).open) return pass;
    if (input.source !== null && this.slice.exemptInputs.has(input.source)) return pass;
    const exempt = input.intents.find((intent) => this.slice.exemptInputs.has(intent.input));
    if (exempt) return { desired: { availability: exempt.pair.availability, activity: exempt.pair.activity }, source: exempt.input, note: OUTSIDE_NOTE };
    return { desired: null, source: null, note: input.desired === null ? null : OUTSIDE_NOTE };
  }

  /**
   * The next window edge for the user (daylight-saving correct), for any `outside` mode: with
   * `inputsWork` the answer does not change, but the appear-offline part and the surfaces do.
   * Kept per user until it passes; a clock that jumps back recomputes.
   */
  nextChangeAt(userKey: string, now: number): number | null {
    const hours = this.slice.users.get(userKey);
    return hours ? this.edge(userKey, hours, now).next : null;
  }

  /**
   * Open or not, and until when: worked out once per stretch between two edges (a clock that
   * jumps back or past the edge works it out again), so a signal costs no time-zone arithmetic.
   */
  private edge(userKey: string, hours: UserHours, now: number): CachedEdge {
    const cached = this.edges.get(userKey);
    if (cached && cached.from <= now && (cached.next === null || now < cached.next)) return cached;
    const edge = { from: now, next: nextChangeAfter(hours, now), open: isOpenAt(hours, now) };
    this.edges.set(userKey, edge);
    return edge;
  }
}

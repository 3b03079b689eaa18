import type { GraphCallEvent } from './userState.js';
import { GraphError } from '../graph/types.js';

/** How a Graph call ended: the value is not kept, the error is. */
export type CallOutcome = { readonly ok: true } | { readonly ok: false; readonly error: unknown };

export interface GraphCallReport {
  readonly userKey: string | null;
  readonly operation: GraphCallEvent['operation'];
  /** Formatted pair for setPresence, e.g. `Busy/InACall`. */
  readonly detail?: string | undefined;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly outcome: CallOutcome;
}

/**
 * The one builder of `graphCall` events, for the session publisher, the read-back and the bridge's
 * own calls (preferred presence, clearing a leftover session), so the status page, the Homebridge
 * log and the metrics see the same fields whoever made the call.
 *
 * - A call that succeeded carries neither `status` nor `errorCode`.
 * - A call that failed always carries an `errorCode`: a {@link GraphError}'s stable code, or
 *   `UNEXPECTED` for any other error (a bug, a rejection that never reached the network stack),
 *   the word `GraphErrorCode` keeps for "anything else". Before this builder the read-back
 *   left it out for such errors while the publisher said `UNEXPECTED`.
 * - `status` is the HTTP status when Graph or the sign-in service answered, else absent.
 */
export function graphCallEvent(report: GraphCallReport): GraphCallEvent {
  const base = {
    userKey: report.userKey,
    operation: report.operation,
    ...(report.detail === undefined ? {} : { detail: report.detail }),
    startedAt: report.startedAt,
    durationMs: report.endedAt - report.startedAt,
  };
  if (report.outcome.ok) return { ...base, ok: true };
  const error = report.outcome.error;
  if (error instanceof GraphError) return { ...base, ok: false, ...(error.status === undefined ? {} : { status: error.status }), errorCode: error.code };
  return { ...base, ok: false, errorCode: 'UNEXPECTED' };
}

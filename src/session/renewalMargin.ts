import type { CallOutcome, RenewalTrouble } from '../presence/renewalSchedule.js';
import { availableRenewalMargin, recordTrouble } from '../presence/renewalSchedule.js';

/**
 * The Available renewal margin shared by every user's publisher: Graph's trouble (a 503 storm,
 * throttling, a token outage, a hung connection) is rarely one user's, so one slow or failed call
 * widens the margin for all users' next renewals, and calm narrows it again for all.
 */
export class RenewalMargin {
  private trouble: RenewalTrouble | null = null;

  constructor(private readonly timeoutMs: number) {}

  /** Learn from one finished Graph call. */
  record(outcome: CallOutcome): void {
    this.trouble = recordTrouble(this.trouble, outcome, this.timeoutMs);
  }

  /** How long before its fade an Available session is re-posted at `now`. */
  availableMarginMs(now: number): number {
    return availableRenewalMargin(now, this.timeoutMs, this.trouble);
  }
}

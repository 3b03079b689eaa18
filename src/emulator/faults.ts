import type { Fault } from './context.js';
import { EmulatorError } from './http.js';

export interface FaultSpec {
  /**
   * `status`: the next `count` Graph requests (or those under `path`) get this status; 401 is the
   * intermittent refusal of a valid token reported in the field. `rejectIds`: the next `count`
   * getPresencesByUserId requests naming one of `ids` get a bare 400. See docs/emulator.md.
   */
  kind: 'status' | 'hang' | 'drop' | 'tokenOutage' | 'rejectIds';
  status?: 401 | 429 | 500 | 503 | 504;
  /** Seconds, fractional allowed (Graph sends e.g. `2.128`). */
  retryAfterSeconds?: number;
  ids?: string[];
  count: number;
  path?: string;
}

export type RequestKind = 'graph' | 'identity' | 'token';

/** The injected faults, used up one count per request they hit. */
export class FaultList {
  readonly items: Fault[] = [];

  inject(fault: FaultSpec): void {
    if (!['status', 'hang', 'drop', 'tokenOutage', 'rejectIds'].includes(fault.kind)) throw new EmulatorError(400, 'BadRequest', `unknown fault kind '${String(fault.kind)}'`);
    if (fault.kind === 'status' && ![401, 429, 500, 503, 504].includes(fault.status ?? 0)) throw new EmulatorError(400, 'BadRequest', 'a status fault needs status 401, 429, 500, 503 or 504');
    if (fault.kind === 'rejectIds' && (!Array.isArray(fault.ids) || fault.ids.length === 0 || !fault.ids.every((id) => typeof id === 'string'))) {
      throw new EmulatorError(400, 'BadRequest', 'a rejectIds fault needs ids, a non-empty array of strings');
    }
    if (fault.retryAfterSeconds !== undefined && !(fault.retryAfterSeconds >= 0)) throw new EmulatorError(400, 'BadRequest', 'retryAfterSeconds must be a number of seconds, 0 or more');
    if (!Number.isInteger(fault.count) || fault.count < 1) throw new EmulatorError(400, 'BadRequest', 'count must be a positive integer');
    this.items.push({ ...fault, remaining: fault.count });
  }

  clear(): void {
    this.items.length = 0;
  }

  /** The fault a request of this kind and path hits, if any (one count used). */
  pick(kind: RequestKind, route: string, path: string): Fault | undefined {
    return this.take((f) => {
      if (f.kind === 'rejectIds') return false;
      if (f.kind === 'tokenOutage') return kind === 'token';
      if (f.path !== undefined) return route.startsWith(f.path) || path.startsWith(f.path);
      return kind === 'graph';
    });
  }

  /** True when a getPresencesByUserId request names an id a `rejectIds` fault holds (one count used). */
  rejectIds(ids: readonly string[]): boolean {
    const wanted = new Set(ids.map((id) => id.toLowerCase()));
    return this.take((f) => f.kind === 'rejectIds' && (f.ids ?? []).some((id) => wanted.has(id.toLowerCase()))) !== undefined;
  }

  private take(matches: (fault: Fault) => boolean): Fault | undefined {
    const index = this.items.findIndex(matches);
    if (index < 0) return undefined;
    const fault = this.items[index]!;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.items.splice(index, 1);
    return fault;
  }
}

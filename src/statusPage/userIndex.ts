import type { UserHealth, UserState } from '../bridgeTypes.js';

/** Users per page unless asked otherwise, and the most one page may hold. */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 500;

/**
 * How many users are in each health and each presence: what Graph last reported (read-back), else
 * what our session asserts and Graph confirmed, else `unknown`.
 */
export interface UserCounts {
  readonly total: number;
  readonly health: Readonly<Record<string, number>>;
  readonly presence: Readonly<Record<string, number>>;
}

export interface UserQuery {
  /** Case-insensitive text found in the key, display name or id; empty for all. */
  readonly q?: string;
  /** Only users in this health. */
  readonly health?: UserHealth;
  /** 1-based. */
  readonly page?: number;
  readonly pageSize?: number;
}

export interface UserPage {
  readonly users: UserState[];
  /** Users the query matched (all pages). */
  readonly matched: number;
  readonly page: number;
  readonly pageSize: number;
}

/** Worst first: the users somebody has to look at lead the list. */
const HEALTH_RANK: Readonly<Record<UserHealth, number>> = { unhealthy: 0, retrying: 1, pending: 2, ok: 3 };

function presenceOf(state: UserState): string {
  return state.actual?.availability ?? state.confirmed?.availability ?? 'unknown';
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next === 0) counts.delete(key);
  else counts.set(key, next);
}

/**
 * The latest state of every user, with counts kept up to date on each change (no pass over
 * thousands of users per event) and paged, searchable, worst-first lists. Pure.
 */
export class UserIndex {
  private readonly states = new Map<string, { state: UserState; readonly order: number }>();
  private readonly health = new Map<string, number>();
  private readonly presence = new Map<string, number>();

  constructor(initial: readonly UserState[]) {
    for (const state of initial) this.update(state);
  }

  update(state: UserState): void {
    const previous = this.states.get(state.userKey);
    if (previous) {
      bump(this.health, previous.state.health, -1);
      bump(this.presence, presenceOf(previous.state), -1);
      previous.state = state;
    } else {
      this.states.set(state.userKey, { state, order: this.states.size });
    }
    bump(this.health, state.health, 1);
    bump(this.presence, presenceOf(state), 1);
  }

  counts(): UserCounts {
    return { total: this.states.size, health: Object.fromEntries(this.health), presence: Object.fromEntries(this.presence) };
  }

  query(query: UserQuery = {}): UserPage {
    const needle = (query.q ?? '').trim().toLowerCase();
    const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(query.pageSize ?? DEFAULT_PAGE_SIZE)));
    const matched: { state: UserState; order: number }[] = [];
    for (const entry of this.states.values()) {
      const s = entry.state;
      if (query.health !== undefined && s.health !== query.health) continue;
      if (needle !== '' && !`${s.userKey}\n${s.displayName}\n${s.userId}`.toLowerCase().includes(needle)) continue;
      matched.push(entry);
    }
    matched.sort((a, b) => HEALTH_RANK[a.state.health] - HEALTH_RANK[b.state.health] || a.order - b.order);
    const pages = Math.max(1, Math.ceil(matched.length / pageSize));
    const page = Math.min(pages, Math.max(1, Math.floor(query.page ?? 1)));
    const start = (page - 1) * pageSize;
    return { users: matched.slice(start, start + pageSize).map((e) => e.state), matched: matched.length, page, pageSize };
  }
}

/** Reads a {@link UserQuery} from `?q=&health=&page=&pageSize=`; unknown values are ignored. */
export function queryFrom(params: URLSearchParams): UserQuery {
  const number = (name: string): number | undefined => {
    const value = Number(params.get(name) ?? '');
    return params.has(name) && Number.isFinite(value) ? value : undefined;
  };
  const health = params.get('health');
  const page = number('page');
  const pageSize = number('pageSize');
  return {
    q: params.get('q') ?? '',
    ...(health !== null && health in HEALTH_RANK ? { health: health as UserHealth } : {}),
    ...(page !== undefined ? { page } : {}),
    ...(pageSize !== undefined ? { pageSize } : {}),
  };
}

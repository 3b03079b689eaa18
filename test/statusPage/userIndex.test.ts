import { describe, expect, it } from 'vitest';
import type { UserHealth } from '../../src/bridgeTypes.js';
import { queryFrom, UserIndex } from '../../src/statusPage/userIndex.js';
import { userState } from '../helpers/userState.js';

describe('UserIndex', () => {
  it('keeps counts right through every change, without recounting', () => {
    const healths: UserHealth[] = ['ok', 'pending', 'retrying', 'unhealthy'];
    const index = new UserIndex(Array.from({ length: 40 }, (_, i) => userState(`u${i}`)));
    // a stream of changes; after each the counts equal a full recount
    for (let step = 0; step < 400; step++) {
      const i = (step * 7) % 40;
      const availability = ['Busy', 'Available', 'Away'][step % 3]!;
      index.update(userState(`u${i}`, { health: healths[step % 4]!, actual: step % 5 === 0 ? null : { availability, activity: availability } }));
    }
    const all = index.query({ pageSize: 500 }).users;
    const recount = (field: (s: (typeof all)[number]) => string): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const s of all) out[field(s)] = (out[field(s)] ?? 0) + 1;
      return out;
    };
    const counts = index.counts();
    expect(counts.total).toBe(40);
    expect(counts.health).toEqual(recount((s) => s.health));
    expect(counts.presence).toEqual(recount((s) => s.actual?.availability ?? 'unknown'));
  });

  it('lists the worst first, then in the order users came, and pages and searches', () => {
    const index = new UserIndex([
      userState('alex', { displayName: 'Alex Wilber' }),
      userState('megan', { displayName: 'Megan Bowen', health: 'retrying' }),
      userState('lee', { displayName: 'Lee Gu', health: 'unhealthy' }),
      userState('nestor', { displayName: 'Nestor Wilke', health: 'pending' }),
    ]);
    expect(index.query().users.map((u) => u.userKey)).toEqual(['lee', 'megan', 'nestor', 'alex']);
    expect(index.query({ pageSize: 3, page: 2 })).toMatchObject({ users: [{ userKey: 'alex' }], matched: 4, page: 2, pageSize: 3 });
    expect(index.query({ pageSize: 3, page: 99 }).page).toBe(2); // past the end: the last page
    expect(index.query({ q: 'WIL' }).users.map((u) => u.userKey)).toEqual(['nestor', 'alex']);
    expect(index.query({ q: 'megan-id' }).users.map((u) => u.userKey)).toEqual(['megan']);
    expect(index.query({ health: 'ok' }).users.map((u) => u.userKey)).toEqual(['alex']);
  });

  it('reads a query from the address and ignores what it does not know', () => {
    expect(queryFrom(new URLSearchParams('q=alex&health=unhealthy&page=2&pageSize=10'))).toEqual({ q: 'alex', health: 'unhealthy', page: 2, pageSize: 10 });
    expect(queryFrom(new URLSearchParams('health=bogus&page=x'))).toEqual({ q: '' });
  });
});

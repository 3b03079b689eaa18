import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.js';
import type { PresenceBridgeConfig } from '../../src/config/schema.js';
import { expandInputs, isTemplate } from '../../src/fleet/inputTemplates.js';
import { membershipChange, planFleet } from '../../src/fleet/plan.js';
import { ordinalFromHostname, parseShard, resolveShard, shardOf, shardStoragePath } from '../../src/fleet/shard.js';
import { assignKeys, safeKey, shortHash } from '../../src/fleet/userKeys.js';

const GROUP = '11111111-2222-3333-4444-555555555555';
const id = (i: number): string => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

function config(extra: Record<string, unknown>): PresenceBridgeConfig {
  const result = validateConfig({
    auth: { tenantId: 't', clientId: 'c', clientSecret: 's' },
    mqtt: { url: 'mqtt://127.0.0.1:1883' },
    ...extra,
  });
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.config;
}

describe('member keys', () => {
  it('makes a UPN local part safe: lower case, letters, digits, _ and -', () => {
    expect(safeKey('Alex.Wilber')).toBe('alex-wilber');
    expect(safeKey('José+Desk__2')).toBe('jose-desk__2');
    expect(safeKey('..')).toBe('user');
    expect(safeKey('x'.repeat(80))).toHaveLength(48);
  });

  it('resolves collisions the same whatever the order, and reports them', () => {
    const a = { id: id(1), userPrincipalName: 'Sam@contoso.example' };
    const b = { id: id(2), userPrincipalName: 'sam@fabrikam.example' };
    const c = { id: id(3), userPrincipalName: 'kim@contoso.example' };
    const one = assignKeys([a, b, c], 'userPrincipalName');
    const two = assignKeys([c, b, a], 'userPrincipalName');
    const keysOf = (r: typeof one): Record<string, string> => Object.fromEntries(r.members.map((m) => [m.id, m.key]));
    expect(keysOf(one)).toEqual(keysOf(two));
    expect(keysOf(one)[id(1)]).toBe(`sam-${shortHash(id(1))}`);
    expect(keysOf(one)[id(3)]).toBe('kim');
    expect(one.collisions).toEqual([{ base: 'sam', assigned: [{ id: id(1), key: `sam-${shortHash(id(1))}` }, { id: id(2), key: `sam-${shortHash(id(2))}` }] }]);
    // a key already taken by users[] counts as a collision too
    expect(assignKeys([c], 'userPrincipalName', new Set(['kim'])).members[0]!.key).toBe(`kim-${shortHash(id(3))}`);
  });

  it('uses another attribute when the config names one', () => {
    const m = { id: id(7), userPrincipalName: 'a@x.example', mail: 'Desk.Seven@x.example' };
    expect(assignKeys([m], 'mail').members[0]!.key).toBe('desk-seven');
    expect(assignKeys([m], 'id').members[0]!.key).toBe(id(7));
  });
});

describe('shards', () => {
  it('parses I/N, the hostname ordinal, and refuses nonsense', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    expect(() => parseShard('3/3')).toThrow(/I must be 0 to 2/);
    expect(() => parseShard('a')).toThrow(/I\/N/);
    expect(ordinalFromHostname('presence-bridge-2')).toBe(2);
    expect(ordinalFromHostname('presence-bridge-12.svc.cluster.local')).toBe(12);
    expect(ordinalFromHostname('laptop')).toBeUndefined();
  });

  it('takes --shard, then fleet.shard, then the hostname with N from the config or env', () => {
    const env = {};
    expect(resolveShard({ flag: '1/2', config: '0/4', hostname: 'h-3', env })).toMatchObject({ index: 1, count: 2, from: '--shard' });
    expect(resolveShard({ config: '0/4', hostname: 'h-3', env })).toMatchObject({ index: 0, count: 4 });
    expect(resolveShard({ shardCount: 4, hostname: 'h-3', env })).toMatchObject({ index: 3, count: 4 });
    expect(resolveShard({ hostname: 'pb-1', env: { PRESENCE_BRIDGE_SHARDS: '3' } })).toMatchObject({ index: 1, count: 3 });
    expect(() => resolveShard({ shardCount: 3, hostname: 'laptop', env })).toThrow(/no ordinal/);
    expect(() => resolveShard({ shardCount: 3, hostname: 'pb-5', env })).toThrow(/I must be 0 to 2/);
    expect(resolveShard({ hostname: 'laptop', env })).toMatchObject({ index: 0, count: 1 });
  });

  it('gives every id exactly one owner, stable, and spreads 3,000 ids evenly enough', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) {
      const s = shardOf(id(i), 3);
      expect(shardOf(id(i).toUpperCase(), 3)).toBe(s);
      counts[s]! += 1;
    }
    for (const c of counts) expect(c).toBeGreaterThan(850);
    expect(shardStoragePath('/var/lib/pb', { index: 1, count: 3 })).toBe('/var/lib/pb/shard-1-of-3');
    expect(shardStoragePath('/var/lib/pb', { index: 0, count: 1 })).toBe('/var/lib/pb');
  });
});

describe('input templates', () => {
  it('expands a {user} topic into one input per user; serial and plain inputs stay', () => {
    const c = config({
      users: [{ key: 'ann', id: id(1) }, { key: 'bob', id: id(2) }],
      inputs: [
        { type: 'mqtt', name: 'hook', topic: 'desk/{user}/hook', map: { on: 'Busy/InACall' } },
        { type: 'mqtt', name: 'door', topic: 'door', user: 'ann', map: { on: 'Busy/InACall' } },
      ],
    });
    expect(isTemplate(c.inputs[0]!)).toBe(true);
    const { inputs, templates } = expandInputs(c.inputs, ['ann', 'bob']);
    expect(inputs.map((i) => [i.name, i.user, i.type === 'mqtt' ? i.topic : ''])).toEqual([
      ['hook/ann', 'ann', 'desk/ann/hook'],
      ['hook/bob', 'bob', 'desk/bob/hook'],
      ['door', 'ann', 'door'],
    ]);
    expect(templates).toEqual([{ name: 'hook', count: 2, example: inputs[0] }]);
  });

  it('a config with only a group and a template validates (users may be empty then)', () => {
    expect(() => config({ userGroups: [{ id: GROUP }], inputs: [{ type: 'mqtt', name: 'hook', topic: 'desk/{user}/hook', map: { on: 'Busy/InACall' } }] })).not.toThrow();
    expect(validateConfig({ auth: { tenantId: 't', clientId: 'c', clientSecret: 's' }, users: [] })).toMatchObject({ ok: false, errors: [expect.stringContaining('users: must list at least one user')] });
    expect(validateConfig({ auth: { tenantId: 't', clientId: 'c', clientSecret: 's' }, userGroups: [{ id: 'not-a-guid' }] })).toMatchObject({ ok: false });
  });
});

describe('fleet plan', () => {
  const members = Array.from({ length: 300 }, (_, i) => ({ id: id(i), userPrincipalName: `u${i}@contoso.example` }));
  const c = (): PresenceBridgeConfig =>
    config({
      users: [{ key: 'lead', id: id(0) }],
      userGroups: [{ id: GROUP }],
      graph: { maxRequestsPer30s: 1500 },
      inputs: [{ type: 'mqtt', name: 'hook', topic: 'desk/{user}/hook', map: { on: 'Busy/InACall' } }],
    });

  it('splits users over shards with no user in two, divides the budget, and expands templates for its own users only', () => {
    const owners = new Map<string, number>();
    for (let index = 0; index < 3; index++) {
      const plan = planFleet(c(), new Map([[GROUP, members]]), { index, count: 3 });
      expect(plan.allUsers).toHaveLength(300);
      expect(plan.duplicates).toBe(1);
      expect(plan.config.graph.maxRequestsPer30s).toBe(500);
      expect(plan.config.inputs).toHaveLength(plan.config.users.length);
      for (const u of plan.config.users) {
        expect(owners.has(u.id)).toBe(false);
        owners.set(u.id, index);
      }
    }
    expect(owners.size).toBe(300);
    const single = planFleet(c(), new Map([[GROUP, members]]), { index: 0, count: 1 });
    expect(single.config.graph.maxRequestsPer30s).toBe(1500);
    expect(single.config.users.find((u) => u.id === id(0))!.key).toBe('lead');
  });

  it('names who joined and who left', () => {
    const before = planFleet(c(), new Map([[GROUP, members.slice(0, 10)]]), { index: 0, count: 1 }).config.users;
    const after = planFleet(c(), new Map([[GROUP, [...members.slice(1, 10), { id: id(500), userPrincipalName: 'new@contoso.example' }]]]), { index: 0, count: 1 }).config.users;
    const change = membershipChange(before, after);
    expect(change.joined.map((u) => u.key)).toEqual(['new']);
    expect(change.left.map((u) => u.key)).toEqual([]); // id(0) is lead from users[], and stays
    const after2 = planFleet(c(), new Map([[GROUP, members.slice(2, 10)]]), { index: 0, count: 1 }).config.users;
    expect(membershipChange(before, after2).left.map((u) => u.key)).toEqual(['u1']);
  });
});

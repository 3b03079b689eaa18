import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { EXIT, type CliIo } from '../../src/cli/command.js';
import { Collect } from '../helpers/collect.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function check(config: unknown, ...flags: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  dir = await mkdtemp(join(tmpdir(), 'fleet-check-'));
  const file = join(dir, 'config.json');
  await writeFile(file, JSON.stringify(config));
  const stdout = new Collect();
  const stderr = new Collect();
  const io: CliIo = { stdout, stderr, env: {}, cwd: dir, interrupted: new Promise<void>(() => undefined) };
  const code = await main(['check-config', file, ...flags], io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const BASE = {
  auth: { tenantId: '8f1e2c3d-4b5a-4c6d-9e8f-0a1b2c3d4e5f', clientId: '0d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a', clientSecret: 'x' },
  mqtt: { url: 'mqtt://127.0.0.1:1883' },
  inputs: [{ type: 'mqtt', name: 'hook', topic: 'desk/{user}/hook', map: { ON: 'Busy/InACall', OFF: 'clear' } }],
};

describe('check-config on input templates and groups', () => {
  it('says how many inputs a template made, with one example, and names the groups', async () => {
    const r = await check({ ...BASE, users: [{ key: 'ann', id: 'ann@contoso.example' }, { key: 'bob', id: 'bob@contoso.example' }], userGroups: [{ id: '11111111-2222-3333-4444-555555555555' }] });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toContain('Input template "hook": 2 input(s) for users[], e.g. hook/ann on desk/ann/hook, plus one per member of userGroups (read at start)');
    expect(r.stdout).toContain('Users from group 11111111-2222-3333-4444-555555555555: keys from userPrincipalName, read again every 15 min (needs GroupMember.Read.All)');
  });

  it('accepts a group with no users[] and gives the template counts in --json', async () => {
    const r = await check({ ...BASE, users: [{ key: 'ann', id: 'ann@contoso.example' }] }, '--json');
    expect(r.code).toBe(EXIT.ok);
    expect(JSON.parse(r.stdout).templates).toEqual([{ template: 'hook', inputs: 1, example: { name: 'hook/ann', user: 'ann', topic: 'desk/ann/hook' }, perGroupMember: false }]);
    const onlyGroup = await check({ ...BASE, userGroups: [{ id: '11111111-2222-3333-4444-555555555555' }] });
    expect(onlyGroup.stderr).toBe('');
    expect(onlyGroup.code).toBe(EXIT.ok);
  });
});

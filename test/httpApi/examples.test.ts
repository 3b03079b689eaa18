import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { UserView } from '../../src/httpApi/userView.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { OpenApiCheck } from './openApiCheck.js';
import { apiRig } from './support.js';
import type { ApiRig } from './support.js';

/**
 * The examples in examples/http-api/ work as written: each request they describe is sent, as the
 * file spells it (only the address and the token swapped for the test server's), to a real bridge
 * on the emulator, and what it did is checked.
 */
const run = promisify(execFile);
const check = new OpenApiCheck();
const cleanups = cleanupAfterEach();
const TOKEN = 'example-token-4d1c';
const example = (name: string): Promise<string> => readFile(new URL(`../../examples/http-api/${name}`, import.meta.url), 'utf8');

afterAll(() => {
  expect(check.seen.size).toBeGreaterThan(0);
});

interface DescribedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

/** The ```http blocks of a Markdown file: request line, headers, blank line, body. */
function httpBlocks(markdown: string): DescribedRequest[] {
  return [...markdown.matchAll(/```http\n([\s\S]*?)```/g)].map(([, block = '']) => {
    const [head = '', body] = block.split(/\n\n/);
    const [requestLine = '', ...headerLines] = head.split('\n').filter((l) => l !== '');
    const [method = '', url = ''] = requestLine.split(' ');
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    return { method, url, headers, ...(body?.trim() ? { body: body.trim() } : {}) };
  });
}

/** Sends a described request to the rig: its origin and the placeholder token swapped, nothing else. */
async function send(rig: ApiRig, request: DescribedRequest): Promise<{ status: number; body: unknown }> {
  const url = new URL(request.url);
  const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, v.replace('YOUR-TOKEN', TOKEN)]));
  const response = await fetch(`${rig.url}${url.pathname}`, { method: request.method, headers, body: request.body });
  const text = await response.text();
  const contentType = response.headers.get('content-type');
  const body: unknown = contentType?.startsWith('application/json') ? JSON.parse(text) : text;
  check.check({ method: request.method, path: url.pathname, status: response.status, contentType, body });
  return { status: response.status, body };
}

describe('examples/http-api', () => {
  it('curl.sh: every curl line runs as written, with PB_URL and PB_TOKEN set', async () => {
    const rig = await apiRig(cleanups, check, { token: TOKEN });
    const script = await example('curl.sh');
    const lines = script.split('\n');
    const commands = lines.flatMap((line, index) => (line.startsWith('curl ') ? [{ line, title: lines[index - 1]?.replace(/^# /, '') ?? '' }] : []));
    expect(commands.map((c) => c.title)).toEqual([
      'Every user\'s state',
      'One user\'s state (alex is a users[].key from the config)',
      'In a call for 30 minutes, then back to whatever the other inputs say',
      'Do not disturb until cleared',
      'Clear what the API holds (other inputs keep theirs)',
      'The OpenAPI document (no token needed)',
    ]);
    const outputs: unknown[] = [];
    for (const { line } of commands) {
      const { stdout } = await run('sh', ['-c', line], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PB_URL: rig.url, PB_TOKEN: TOKEN } });
      const body: unknown = JSON.parse(stdout);
      outputs.push(body);
      // curl -f exits non-zero on an error status, so this was a 200 (the only success the API sends)
      const method = /-X (\w+)/.exec(line)?.[1] ?? 'GET';
      const path = /"\$PB_URL(\/[^"]*)"/.exec(line)?.[1] ?? '';
      check.check({ method, path, status: 200, contentType: 'application/json', body });
      if (line.includes('-d ')) expect(rig.bridge.activeIntents('alex').length).toBeGreaterThan(0);
    }
    expect((outputs[0] as { users: UserView[] }).users.map((u) => u.key)).toEqual(['alex', 'sam', 'ghost']);
    expect(outputs[1]).toMatchObject({ key: 'alex' });
    expect(outputs[2]).toMatchObject({ desired: 'Busy/InACall', source: 'http-api', intents: [{ presence: 'Busy/InACall', until: new Date(rig.clock.now() + 30 * 60_000).toISOString() }] });
    expect(outputs[3]).toMatchObject({ desired: 'DoNotDisturb/Presenting', intents: [{ presence: 'DoNotDisturb/Presenting', until: null }] });
    expect(outputs[4]).toMatchObject({ desired: null, intents: [] });
    expect(outputs[5]).toMatchObject({ openapi: '3.1.0' });
    // and the script as a whole, run by sh, exits 0
    await run('sh', [new URL('../../examples/http-api/curl.sh', import.meta.url).pathname], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PB_URL: rig.url, PB_TOKEN: TOKEN } });
  });

  it('apple-shortcuts.md: the requests the recipe builds set and clear the presence', async () => {
    const rig = await apiRig(cleanups, check, { token: TOKEN });
    const [set, clear, ...rest] = httpBlocks(await example('apple-shortcuts.md'));
    expect(rest).toEqual([]);
    expect(set).toMatchObject({ method: 'PUT', headers: { authorization: 'Bearer YOUR-TOKEN', 'content-type': 'application/json' } });
    const answer = await send(rig, set!);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ desired: 'Busy/InACall', intents: [{ until: new Date(rig.clock.now() + 3_600_000).toISOString() }] });
    // the recipe's steps name the same URL, method and fields as the request shown
    const recipe = await example('apple-shortcuts.md');
    expect(recipe).toContain(`URL: \`${set!.url}\``);
    expect(recipe).toContain('`presence` = `Busy/InACall`');
    expect(recipe).toContain('`for` = `PT1H`');
    expect(JSON.parse(set!.body ?? '')).toEqual({ presence: 'Busy/InACall', for: 'PT1H' });
    const cleared = await send(rig, clear!);
    expect([cleared.status, (cleared.body as UserView).desired]).toEqual([200, null]);
  });

  it('stream-deck.md: each key\'s fields are the request shown, and it works', async () => {
    const rig = await apiRig(cleanups, check, { token: TOKEN });
    const markdown = await example('stream-deck.md');
    const tables = markdown.split('\n## ').slice(1).map((section) => {
      const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| field') && !l.startsWith('| ---'));
      return Object.fromEntries(rows.map((r) => r.split('|').map((c) => c.trim().replace(/^`|`$/g, ''))).map(([, k = '', v = '']) => [k, v]));
    });
    const requests = httpBlocks(markdown);
    expect(requests).toHaveLength(2);
    for (const [index, request] of requests.entries()) {
      const table = tables[index]!;
      expect([table.URL, table.Method]).toEqual([request.url, request.method]);
      expect(table.Headers).toContain(`Authorization: ${request.headers.authorization}`);
      if (request.body) expect([table.Body, table['Content-Type']]).toEqual([request.body, request.headers['content-type']]);
    }
    const busy = await send(rig, requests[0]!);
    expect([busy.status, (busy.body as UserView).desired]).toEqual([200, 'Busy/InACall']);
    const dnd = markdown.match(/Body `(\{"presence":"DoNotDisturb[^`]*)`/)?.[1];
    const twoHours = await send(rig, { ...requests[0]!, body: dnd ?? '' });
    expect(twoHours.body).toMatchObject({ desired: 'DoNotDisturb/Presenting', intents: [{ until: new Date(rig.clock.now() + 2 * 3_600_000).toISOString() }] }); // the input's one intent, replaced
    const clear = await send(rig, requests[1]!);
    expect([clear.status, (clear.body as UserView).intents]).toEqual([200, []]);
    // on loopback without a token (the table's note), the same key works with no Authorization header
    const open = await apiRig(cleanups, check);
    const { authorization: _dropped, ...noToken } = requests[0]!.headers;
    expect((await send(open, { ...requests[0]!, headers: noToken })).status).toBe(200);
  });

  it('home-assistant.yaml: each rest_command, as Home Assistant would send it, works', async () => {
    const rig = await apiRig(cleanups, check, { token: TOKEN });
    const secrets: Record<string, string> = { presence_bridge_auth: `Bearer ${TOKEN}` };
    const parsed = parseYaml(await example('home-assistant.yaml'), {
      customTags: [{ tag: '!secret', resolve: (name: string) => secrets[name] ?? `missing secret ${name}` }],
    }) as { rest_command: Record<string, { url: string; method: string; headers?: Record<string, string>; content_type?: string; payload?: string }> };
    const commands = parsed.rest_command;
    expect(Object.keys(commands)).toEqual(['teams_busy', 'teams_dnd_2h', 'teams_clear']);
    const sendCommand = (name: string) => {
      const c = commands[name]!;
      const headers: Record<string, string> = { ...c.headers };
      if (c.content_type) headers['content-type'] = c.content_type;
      return send(rig, { method: c.method.toUpperCase(), url: c.url, headers, ...(c.payload ? { body: c.payload } : {}) });
    };
    expect((await sendCommand('teams_busy')).body).toMatchObject({ desired: 'Busy/InACall', source: 'http-api' });
    expect((await sendCommand('teams_dnd_2h')).body).toMatchObject({ desired: 'DoNotDisturb/Presenting', intents: [{ until: new Date(rig.clock.now() + 2 * 3_600_000).toISOString() }] });
    const cleared = await sendCommand('teams_clear');
    expect([cleared.status, (cleared.body as UserView).desired]).toEqual([200, null]);
  });
});

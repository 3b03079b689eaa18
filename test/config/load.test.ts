import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lineColumn, locateJsonError, parseJson } from '../../src/config/load.js';
import { loadConfigFile } from '../../src/configuration.js';

const fixtures = new URL('../fixtures/config/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'pb-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const block = { platform: 'PresenceBridge', auth: { tenantId: 't', clientId: 'c', clientSecret: 's3cr3t-value' }, users: [{ key: 'alex', id: 'alex@contoso.example' }] };

describe('loadConfigFile', () => {
  it('reads a platform block', async () => {
    const result = await loadConfigFile(join(fixtures, 'platform-block.json'));
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.file).toBe(join(fixtures, 'platform-block.json'));
    expect(result.config.users.map((u) => u.key)).toEqual(['alex', 'megan']);
    expect(result.config.inputs[0]?.map['double']).toEqual({ set: 'Busy/InAConferenceCall', for: 'PT45M' });
  });

  it('picks the PresenceBridge block of a whole Homebridge config.json', async () => {
    const result = await loadConfigFile(join(fixtures, 'homebridge-config.json'));
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.config.name).toBe('Teams presence');
    expect(result.config.inputs[0]?.user).toBe('alex');
  });

  it('resolves a relative path against the working directory', async () => {
    const result = await loadConfigFile('test/fixtures/config/platform-block.json');
    expect(result.ok && result.file).toBe(join(fixtures, 'platform-block.json'));
  });

  it.each([
    ['no PresenceBridge block', { platforms: [{ platform: 'config' }] }, 'no platform block with "platform": "PresenceBridge" in "platforms"; add one or point to a file holding just the block'],
    ['two blocks', { platforms: [block, { platform: 'x' }, { ...block, platform: 'homebridge-presence-bridge.PresenceBridge' }] }, '2 "PresenceBridge" platform blocks (platforms[0], platforms[2]); keep exactly one'],
    ['platforms not a list', { platforms: {} }, '"platforms" must be a list of platform blocks'],
  ])('refuses a Homebridge config with %s', async (_name, content, message) => {
    const file = write('hb.json', JSON.stringify(content));
    expect(await loadConfigFile(file)).toEqual({ ok: false, errors: [`${file}: ${message}`], stage: 'platform' });
  });

  it('returns validation errors of the picked block', async () => {
    const file = write('hb-bad.json', JSON.stringify({ platforms: [{ ...block, cloud: 'moon' }] }));
    expect(await loadConfigFile(file)).toEqual({ ok: false, errors: ['cloud: must be one of "global", "usgov", "dod", "china"'], stage: 'validate' });
  });

  it('names a missing file', async () => {
    const file = join(dir, 'nope.json');
    expect(await loadConfigFile(file)).toEqual({ ok: false, errors: [`${file}: cannot read: no such file`], stage: 'read' });
  });

  it('names a directory', async () => {
    expect(await loadConfigFile(dir)).toEqual({ ok: false, errors: [`${dir}: cannot read: is a directory, not a file`], stage: 'read' });
  });

  it('names the file as the caller asks', async () => {
    expect(await loadConfigFile(join(dir, 'nope.json'), { displayName: 'nope.json' })).toEqual({ ok: false, errors: ['nope.json: cannot read: no such file'], stage: 'read' });
  });

  it('gives file, line and column of a JSON error, without quoting the file', async () => {
    const file = join(fixtures, 'bad-json.json');
    const result = await loadConfigFile(file);
    expect(result).toEqual({ ok: false, errors: [`${file}:6:3: invalid JSON: trailing comma before }`], stage: 'json' });
    expect(JSON.stringify(result)).not.toContain('fixture-secret');
  });

  it('accepts a byte order mark', async () => {
    const file = write('bom.json', `\uFEFF${JSON.stringify(block)}`);
    expect((await loadConfigFile(file)).ok).toBe(true);
  });
});

describe('JSON error positions', () => {
  it.each([
    ['{"a": 1,}', 1, 9, 'trailing comma before }'],
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3, 'expected , or } after a property, found "\\""'],
    ['{\n  a: 1\n}', 2, 3, 'expected a quoted property name, found "a"'],
    ['{"a" 1}', 1, 6, 'expected : after the property name, found "1"'],
    ['{"a": [1, 2,]}', 1, 13, 'trailing comma before ]'],
    ['{"a": [1 2]}', 1, 10, 'expected , or ] after a list item, found "2"'],
    ['{"a": tru}', 1, 7, 'unexpected "t"'],
    ['{"a": "x\ny"}', 1, 9, 'line break or control character inside a string'],
    ['{"a": "\\q"}', 1, 8, 'bad escape in a string'],
    ['{"a": "open', 1, 12, 'unterminated string'],
    ['{"a": 1', 1, 8, 'expected , or } after a property, found the end of the file'],
    ['{"a": 01}', 1, 8, 'expected , or } after a property, found "1"'],
    ["{'a': 1}", 1, 2, 'expected a quoted property name, found "\'"'],
    ['{} {}', 1, 4, 'unexpected "{" after the end of the JSON value'],
    ['{"a": -}', 1, 7, 'unexpected "-"'],
    ['// comment\n{}', 1, 1, 'unexpected "/"'],
  ])('%j fails at %i:%i with %s', (text, line, column, reason) => {
    expect(() => JSON.parse(text) as unknown).toThrow();
    expect(parseJson(text, 'f.json')).toEqual({ ok: false, error: `f.json:${line}:${column}: invalid JSON: ${reason}` });
  });

  it.each(['{}', '[1, 2.5e3, -0.1, true, false, null]', '{"a": {"b": ["\\u00e9\\n"]}}', ' "x" '])('agrees with JSON.parse on valid %j', (text) => {
    expect(locateJsonError(text)).toBeUndefined();
  });

  it('calls an empty file empty', () => {
    expect(parseJson(' \n', 'f.json')).toEqual({ ok: false, error: 'f.json: the file is empty; expected a JSON object' });
  });

  it.each([
    [0, 1, 1],
    [3, 1, 4],
    [4, 2, 1],
    [6, 2, 3],
  ])('lineColumn("abc\\ndef", %i) = %i:%i', (offset, line, column) => {
    expect(lineColumn('abc\ndef', offset)).toEqual({ line, column });
  });
});

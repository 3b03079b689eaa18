import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOC_EXAMPLE } from '../../src/config/configDoc.js';
import { configFields, flattenFields } from '../../src/config/fields.js';
import { formGroups, groupOf } from '../../src/config/formSchema.js';
import { buildConfigSchema, CONFIG, renderConfigSchema, renderConfigurationDoc, validateConfig } from '../../src/configuration.js';

type Json = Record<string, unknown>;
const root = new URL('../../', import.meta.url);
const schemaFile = JSON.parse(readFileSync(new URL('config.schema.json', root), 'utf8')) as Json;

/** The value at a path of keys inside parsed JSON, or undefined. */
function at(value: unknown, ...keys: (string | number)[]): unknown {
  let current = value;
  for (const key of keys) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

const layout = schemaFile['layout'] as Json[];
const section = (title: string): (Json | string)[] => at(layout.find((s) => s['title'] === title), 'items') as (Json | string)[];

/** Every property of the form schema, with its dotted path. */
function properties(node: Json, path = ''): [string, Json][] {
  const out: [string, Json][] = [];
  const props = (node['properties'] ?? at(node, 'items', 'properties')) as Json | undefined;
  for (const [key, child] of Object.entries(props ?? {})) {
    const childPath = path === '' ? key : `${path}${node['type'] === 'array' ? '[]' : ''}.${key}`;
    out.push([childPath, child as Json], ...properties(child as Json, childPath));
  }
  return out;
}

/** Every `key` the layout places, anywhere in it. */
function layoutKeys(items: unknown[]): string[] {
  return items.flatMap((item) => {
    if (typeof item === 'string') return [item];
    const entry = item as Json;
    const own = typeof entry['key'] === 'string' ? [entry['key']] : [];
    const inner = Array.isArray(entry['items']) ? layoutKeys(entry['items'] as unknown[]).filter((k) => !k.endsWith('[]') || k.slice(0, -2) !== entry['key']) : [];
    return [...own, ...inner];
  });
}

/** Every layout entry that is an object, anywhere in the layout. */
function layoutEntries(items: unknown[]): Json[] {
  return items.flatMap((item) => {
    if (typeof item !== 'object' || item === null) return [];
    const entry = item as Json;
    return [entry, ...(Array.isArray(entry['items']) ? layoutEntries(entry['items'] as unknown[]) : [])];
  });
}

describe('config.schema.json', () => {
  it('is exactly what the generator renders from the zod schema (no drift)', () => {
    expect(readFileSync(new URL('config.schema.json', root), 'utf8')).toBe(renderConfigSchema());
  });

  it('docs/configuration.md is exactly what the generator renders (no drift)', () => {
    expect(readFileSync(new URL('docs/configuration.md', root), 'utf8')).toBe(renderConfigurationDoc());
  });

  it('declares the Homebridge platform', () => {
    expect(schemaFile).toMatchObject({ pluginAlias: 'PresenceBridge', pluginType: 'platform', singular: true, customUi: true });
    expect(schemaFile['headerDisplay']).toMatch(/Teams presence/);
    expect(at(schemaFile, 'schema', 'type')).toBe('object');
  });

  it('gives every field a title and a description', () => {
    const all = properties(schemaFile['schema'] as Json);
    expect(all.length).toBeGreaterThan(50);
    const missing = all.filter(([, p]) => typeof p['title'] !== 'string' || p['title'] === '' || typeof p['description'] !== 'string' || p['description'] === '');
    expect(missing.map(([path]) => path)).toEqual([]);
  });

  it('covers every option of the zod schema except those Homebridge writes itself', () => {
    const formPaths = properties(schemaFile['schema'] as Json).map(([path]) => path).sort();
    const zodPaths = flattenFields(configFields(CONFIG.schema)).map((f) => f.path).sort();
    expect(formPaths).toEqual(zodPaths);
    expect(formPaths).not.toContain('platform');
    expect(formPaths).not.toContain('_bridge');
    for (const key of Object.keys(CONFIG.schema.shape).filter((k) => k !== 'platform' && k !== '_bridge')) expect(formPaths).toContain(key);
  });

  it('shows secrets as password fields, and nothing else', () => {
    const passwords = layoutEntries(layout)
      .filter((entry) => entry['type'] === 'password')
      .map((entry) => entry['key']);
    expect(passwords).toEqual(['auth.clientSecret', 'mqtt.password', 'fleet.shardAuth[].clientSecret', 'http.token']);
  });

  it('marks required what the validator requires, and carries defaults', () => {
    const byPath = new Map(properties(schemaFile['schema'] as Json));
    // JSON-Schema required lists, never a per-field `"required": true`.
    expect(properties(schemaFile['schema'] as Json).filter(([, p]) => p['required'] === true)).toEqual([]);
    expect((schemaFile['schema'] as Json)['required']).toEqual(['auth']);
    expect(byPath.get('auth')?.['required']).toEqual(['tenantId', 'clientId']);
    expect(at(byPath.get('users'), 'items', 'required')).toEqual(['key', 'id']);
    expect(at(byPath.get('inputs'), 'items', 'required')).toEqual(['type', 'name']);
    expect(at(byPath.get('inputs[].values'), 'items', 'required')).toEqual(['value', 'presence']);
    // serial and http outputs share only these; the validator still requires path/templates or url per type
    expect(at(byPath.get('outputs'), 'items', 'required')).toEqual(['type', 'name']);
    // Required whenever the MQTT block is there; a serial port only for serial inputs.
    expect(byPath.get('mqtt')?.['required']).toEqual(['url']);
    expect(byPath.get('graph.expiration')?.['default']).toBe('PT1H');
    // A default the form would save where it does not belong is a placeholder instead.
    expect(byPath.get('inputs[].baudRate')).toMatchObject({ type: 'integer', minimum: 1 });
    expect(byPath.get('inputs[].baudRate')).not.toHaveProperty('default');
    expect(byPath.get('outputs[].baudRate')).not.toHaveProperty('default');
    expect(byPath.get('mqtt.baseTopic')).not.toHaveProperty('default');
    const entry = (key: string) => layoutEntries(layout).find((e) => e['key'] === key);
    expect(entry('inputs[].baudRate')).toMatchObject({ placeholder: '9600' });
    expect(entry('inputs[].delimiter')).toMatchObject({ placeholder: '\\n' });
    expect(entry('mqtt.homeAssistant')).toMatchObject({ type: 'select', titleMap: [{ value: true, name: 'Yes (default)' }, { value: false, name: 'No' }] });
    expect(byPath.get('inputs[].values[].presence')?.['enum']).toEqual(['Available/Available', 'Busy/InACall', 'Busy/InAConferenceCall', 'Away/Away', 'DoNotDisturb/Presenting', 'clear', 'toggle']);
    expect(byPath.get('inputs[].type')?.['enum']).toEqual(['mqtt', 'serial']);
    expect(byPath.get('mqtt.protocolVersion')).toMatchObject({ type: 'integer', enum: [4, 5] });
    expect(at(byPath.get('homekit.switches'), 'items', 'enum')).toEqual(['Available/Available', 'Busy/InACall', 'Busy/InAConferenceCall', 'Away/Away', 'DoNotDisturb/Presenting']);
    expect(at(byPath.get('inputs[].map'), 'additionalProperties', 'anyOf')).toHaveLength(2);
  });

  it('lays out the sections in order, each expandable', () => {
    expect(layout.map((s) => s['title'])).toEqual(['Sign-in', 'Users', 'MQTT', 'User groups', 'Fleet', 'HTTP API', 'Prometheus metrics', 'Local HTTP server', 'Inputs', 'Outputs', 'HomeKit', 'Advanced']);
    expect(layout.map((s) => s['title'])).toEqual(formGroups(CONFIG).map((g) => g.title));
    for (const section of layout) expect(section).toMatchObject({ type: 'fieldset', expandable: true });
    expect(section('Users')[0]).toMatchObject({ key: 'users', type: 'array', buttonText: 'Add user' });
    // Title and description shown once: a section that is one list leaves them to the list.
    for (const title of ['Users', 'Inputs', 'Outputs']) {
      expect(layout.find((s) => s['title'] === title)).not.toHaveProperty('description');
      expect(section(title)[0]).toMatchObject({ notitle: true });
    }
  });

  it('places every form field in the layout exactly once (free-form maps stay out of it)', () => {
    const keys = layoutKeys(layout);
    const duplicates = keys.filter((k, i) => keys.indexOf(k) !== i);
    expect(duplicates).toEqual([]);
    const fields = flattenFields(configFields(CONFIG.schema));
    // Objects become sections or fieldsets; maps cannot be edited by the form.
    const expected = fields.filter((f) => f.kind !== 'object' && f.kind !== 'record').map((f) => f.path);
    expect([...keys].sort()).toEqual([...expected].sort());
    // A help text inside a list is drawn as a list item of its own (with an x button).
    expect(JSON.stringify(schemaFile['layout'])).not.toContain('"help"');
    expect(keys).toContain('inputs[].values[].for');
    expect(keys).toContain('outputs[].templates.Busy');
  });

  it('shows input fields only for the input type they belong to, and credentials only in application mode', () => {
    const inputs = at(section('Inputs'), 0, 'items') as (Json | string)[];
    const conditionOf = (key: string): string => at(inputs.find((i) => typeof i !== 'string' && i['key'] === key), 'condition', 'functionBody') as string;
    // Evaluated the way the Homebridge UI (ajsf) evaluates a layout condition: arrayIndices is a list.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const run = (body: string, model: unknown): boolean => (new Function('model', 'arrayIndices', body) as (m: unknown, i: number[]) => boolean)(model, [0]);
    expect(run(conditionOf('inputs[].topic'), { inputs: [{ type: 'mqtt' }] })).toBe(true);
    expect(run(conditionOf('inputs[].topic'), { inputs: [{ type: 'serial' }] })).toBe(false);
    expect(run(conditionOf('inputs[].baudRate'), { inputs: [{ type: 'serial' }] })).toBe(true);
    expect(run(conditionOf('inputs[].baudRate'), { inputs: [{ type: 'mqtt' }] })).toBe(false);
    expect(run(conditionOf('inputs[].baudRate'), {})).toBe(false);
    expect(inputs).toContain('inputs[].name');

    const secret = at(section('Sign-in').find((i) => typeof i !== 'string' && i['key'] === 'auth.clientSecret'), 'condition', 'functionBody') as string;
    expect(run(secret, { auth: { mode: 'application' } })).toBe(true);
    expect(run(secret, {})).toBe(true);
    expect(run(secret, { auth: { mode: 'delegated' } })).toBe(false);
  });

  it.each([
    ['auth.tenantId', 'Sign-in'],
    ['auth.certificate.thumbprint', 'Sign-in'],
    ['auth.authorityHost', 'Advanced'],
    ['users[].id', 'Users'],
    ['inputs[].topic', 'Inputs'],
    ['homekit.sensor', 'HomeKit'],
    ['graph.expiration', 'Advanced'],
    ['someFutureOption', 'Advanced'],
  ])('puts %s in section %s (options no section claims go to Advanced)', (path, section) => {
    expect(groupOf(path, formGroups(CONFIG))).toBe(section);
  });

  it('renders the same object as the file holds', () => {
    expect(buildConfigSchema()).toEqual(schemaFile);
  });
});

describe('docs/configuration.md', () => {
  const doc = renderConfigurationDoc();

  it('has one table row per option, with type, default and description', () => {
    const rows = doc.split('\n').filter((l) => l.startsWith('| `'));
    const fields = flattenFields(configFields(CONFIG.schema, { includeHomebridgeOwned: true }));
    expect(rows.map((r) => /^\| `([^`]+)`/.exec(r)?.[1])).toEqual(fields.map((f) => f.path));
    expect(doc).toContain('| `graph.expiration` | text | `"PT1H"` | Session expiration: expirationDuration sent with setPresence (PT5M to PT4H).');
    expect(doc).toContain('| `auth.tenantId` | text | **required** |');
    expect(doc).toContain('| `mqtt.url` | text | **required** in `mqtt` |');
    expect(doc).toContain('| `inputs[].topic` | text | **required** for mqtt | *mqtt only.* Topic:');
    expect(doc).toContain('| `cloud` | `global` \\| `usgov` \\| `dod` \\| `china` | `"global"` |');
    expect(doc).toContain('Shown as a password field.');
  });

  it('shows an example that passes validation', () => {
    const result = validateConfig(DOC_EXAMPLE);
    expect(result.ok ? [] : result.errors).toEqual([]);
    expect(doc).toContain(JSON.stringify(DOC_EXAMPLE, null, 2));
  });
});

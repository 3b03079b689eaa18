import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { assembleConfig, type AssembledConfig } from '../../src/config/assemble.js';
import { renderConfigurationDoc } from '../../src/config/configDoc.js';
import { configFields, flattenFields } from '../../src/config/fields.js';
import { buildConfigSchema, formGroups } from '../../src/config/formSchema.js';
import { inputFields, type PresenceBridgeConfig } from '../../src/config/schema.js';
import { validateWith } from '../../src/config/validate.js';
import type { FeatureContext, FeatureDefinition, GateContext, PresenceGate } from '../../src/feature.js';
import { activeBuiltInInputs, builtInInputs, defineFeature, FEATURES } from '../../src/features.js';
import { CONFIG, validateConfig } from '../../src/configuration.js';
import { ManualClock } from '../../src/shared/clock.js';

type Json = Record<string, unknown>;

/**
 * A feature that exists only in this test: a pager input (its own type, field and check), a
 * `pager` section, a field on every user and one on every input, a reserved input name and a
 * gate. Handed to the assembler next to the real features, it must show up in the schema,
 * validation, the form and the doc without a line of config/ knowing it.
 */
const pagerInput = z
  .object({
    type: z.literal('pager').meta({ title: 'Type', description: 'pager: values arrive from a pager gateway.' }),
    name: inputFields.name,
    user: inputFields.user,
    number: z.string().regex(/^\d+$/).meta({ title: 'Pager number', description: 'The number the gateway reports, digits only.' }),
    values: inputFields.values,
    map: inputFields.map,
    toggle: inputFields.toggle,
  })
  .strict();

interface PagerSlice {
  readonly gateway: string;
  readonly numbers: readonly string[];
}

const seen: { slices: PagerSlice[]; checked: number } = { slices: [], checked: 0 };

const pagerFeature: FeatureDefinition<PagerSlice> = {
  name: 'pager',
  section: { key: 'pager', schema: z.object({ gateway: z.string().min(1).meta({ title: 'Gateway URL', description: 'Where pages come from.' }) }).strict().optional(), title: 'Pager', description: 'The pager gateway.' },
  inputTypes: [pagerInput],
  reservedInputs: ['pager-broadcast'],
  reservedFor: 'pager broadcasts',
  userFields: { pagerName: z.string().optional().meta({ title: 'Pager name', description: 'How the gateway names this user.' }) },
  inputFields: { quiet: z.boolean().optional().meta({ title: 'Quiet', description: 'Never page for this input.' }) },
  checkRaw: (raw, report) => {
    const inputs = Array.isArray(raw['inputs']) ? (raw['inputs'] as unknown[]) : [];
    if (inputs.some((i) => typeof i === 'object' && i !== null && (i as Json)['type'] === 'pager') && raw['pager'] === undefined) report.error('pager', 'is required because an input has type "pager"');
  },
  check: (config, report) => {
    seen.checked++;
    config.inputs.forEach((input, i) => {
      if (String(input.type) === 'pager' && (input as unknown as { number: string }).number === '000') report.error(`inputs[${i}].number`, 'is no pager');
    });
    if (config.users.length > 3) report.warning('users', 'pages go out one by one');
  },
  normalise: (config) => ({ ...config, name: config.name.trim() }),
  form: { title: 'Pager', description: 'Pages as presence.', expanded: false, paths: ['pager'] },
  docRules: 'A `pager` section is required when an input has type `pager`.',
  select: (config) => {
    const section = (config as unknown as { pager?: { gateway: string } }).pager;
    const numbers = config.inputs.flatMap((i) => (String(i.type) === 'pager' ? [(i as unknown as { number: string }).number] : []));
    return section && numbers.length > 0 ? { gateway: section.gateway, numbers } : null;
  },
  create: (slice) => {
    seen.slices.push(slice);
    return { start: () => Promise.resolve(), stop: () => Promise.resolve() };
  },
  gates: (slice): PresenceGate[] => [{ name: `pager ${slice.numbers.join(',')}`, apply: (input) => ({ ...input, note: null }), nextChangeAt: () => null }],
};

const withPager: AssembledConfig = assembleConfig([...FEATURES, defineFeature(pagerFeature)]);

function base(): Json {
  return {
    platform: 'PresenceBridge',
    auth: { tenantId: 'tenant-1', clientId: 'client-1', clientSecret: 'fixture-secret' },
    users: [{ key: 'alex', id: 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3', pagerName: 'AW' }],
    pager: { gateway: 'https://pager.example' },
    inputs: [{ name: 'Pager', type: 'pager', number: '4711', quiet: true, map: { PAGE: 'Busy/InACall', DONE: 'clear' } }],
  };
}

describe('a feature added to the registry', () => {
  it('is accepted by validation: its type, section, user and input fields, normalised by it', () => {
    const raw = base();
    raw['name'] = '  Desk  ';
    const result = validateWith(withPager, raw);
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.config.inputs[0]).toMatchObject({ type: 'pager', number: '4711', quiet: true, user: 'alex', map: { PAGE: 'Busy/InACall', DONE: 'clear' } });
    expect(result.config.users[0]).toMatchObject({ pagerName: 'AW' });
    expect(result.config.name).toBe('Desk');
    expect((result.config as unknown as Json)['pager']).toEqual({ gateway: 'https://pager.example' });
  });

  it('is unknown to the registry without it (the same config fails there)', () => {
    const result = validateConfig(base());
    expect(result.ok ? [] : result.errors).toEqual(['users[0].pagerName: unknown option "pagerName"', 'pager: unknown option "pager"', 'inputs[0].type: must be one of "mqtt", "serial"']);
  });

  it('reports its structural errors, its raw checks (next to zod errors) and its typed checks, in file order', () => {
    const raw = base();
    delete raw['pager'];
    (raw['inputs'] as Json[])[0]!['number'] = 'abc';
    raw['cloud'] = 'moon';
    expect(validateWith(withPager, raw)).toEqual({
      ok: false,
      // cloud was added last to the object, so it comes after inputs; pager is missing, so last
      errors: ['inputs[0].number: Invalid string: must match pattern /^\\d+$/', 'cloud: must be one of "global", "usgov", "dod", "china"', 'pager: is required because an input has type "pager"'],
    });
    const checkedBefore = seen.checked;
    const typed = base();
    (typed['inputs'] as Json[])[0]!['number'] = '000';
    expect(validateWith(withPager, typed)).toEqual({ ok: false, errors: ['inputs[0].number: is no pager'] });
    expect(seen.checked).toBe(checkedBefore + 1);
  });

  it('returns its warnings with a valid config', () => {
    const raw = base();
    raw['users'] = ['a', 'b', 'c', 'd'].map((key, i) => ({ key, id: `${key}@contoso.example`, pagerName: String(i) }));
    (raw['inputs'] as Json[])[0]!['user'] = 'a';
    const result = validateWith(withPager, raw);
    expect(result).toMatchObject({ ok: true, warnings: ['users: pages go out one by one'] });
  });

  it('reserves its input names, with its own words', () => {
    const raw = base();
    (raw['inputs'] as Json[])[0]!['name'] = 'Pager-Broadcast';
    expect(validateWith(withPager, raw)).toEqual({ ok: false, errors: ['inputs[0].name: "Pager-Broadcast" is reserved for the bridge\'s own pager broadcasts; pick another name'] });
  });

  it('shows up in the Homebridge form: its section, its fields only for its type, the user and input fields', () => {
    const form = buildConfigSchema(withPager);
    const layout = form['layout'] as Json[];
    expect(layout.map((s) => s['title'])).toEqual(['Sign-in', 'Users', 'MQTT', 'User groups', 'Fleet', 'HTTP API', 'Prometheus metrics', 'Local HTTP server', 'Pager', 'Inputs', 'Outputs', 'HomeKit', 'Advanced']);
    expect(formGroups(withPager).map((g) => g.title)).toEqual(layout.map((s) => s['title']));
    const text = JSON.stringify(form);
    expect(text).toContain('"pager.gateway"');
    expect(text).toContain('"users[].pagerName"');
    expect(text).toContain('"inputs[].quiet"');
    const inputs = ((layout.find((s) => s['title'] === 'Inputs')!['items'] as Json[])[0]!['items'] as (Json | string)[]).filter((i): i is Json => typeof i !== 'string');
    const number = inputs.find((i) => i['key'] === 'inputs[].number');
    expect(number?.['condition']).toEqual({ functionBody: "return !!(model.inputs && model.inputs[arrayIndices] && ['pager'].includes(model.inputs[arrayIndices].type));" });
    const schema = form['schema'] as Json;
    expect(((schema['properties'] as Json)['inputs'] as { items: { properties: { type: Json } } }).items.properties.type['enum']).toEqual(['mqtt', 'serial', 'pager']);
  });

  it('shows up in docs/configuration.md: option rows and its rules', () => {
    const doc = renderConfigurationDoc(withPager);
    expect(doc).toContain('| `pager.gateway` | text | **required** in `pager` | Gateway URL: Where pages come from. |');
    expect(doc).toContain('| `inputs[].number` | text | **required** for pager | *pager only.* Pager number:');
    expect(doc).toContain('| `users[].pagerName` | text |  | Pager name:');
    expect(doc.replace(/\n/g, ' ')).toContain('A `pager` section is required when an input has type `pager`.');
    const rows = doc.split('\n').filter((l) => l.startsWith('| `')).map((r) => /^\| `([^`]+)`/.exec(r)?.[1]);
    expect(rows).toEqual(flattenFields(configFields(withPager.schema, { includeHomebridgeOwned: true })).map((f) => f.path));
  });

  it('is built from its slice through the registered feature, and only when the config uses it', () => {
    const registered = defineFeature(pagerFeature);
    const result = validateWith(withPager, base());
    if (!result.ok) throw new Error(result.errors.join('\n'));
    const context = {} as FeatureContext; // the pager's create reads nothing of it
    seen.slices.length = 0;
    expect(registered.uses(result.config)).toBe(true);
    expect(registered.build(result.config, context)).not.toBeNull();
    expect(seen.slices).toEqual([{ gateway: 'https://pager.example', numbers: ['4711'] }]);
    const gateContext: GateContext = { clock: new ManualClock(), logger: { debug() {}, info() {}, warn() {}, error() {} }, config: result.config };
    expect(registered.gatesFor(result.config, gateContext).map((g) => g.name)).toEqual(['pager 4711']);
    const unused: PresenceBridgeConfig = { ...result.config, inputs: [] };
    expect(registered.uses(unused)).toBe(false);
    expect(registered.build(unused, context)).toBeNull();
    expect(registered.gatesFor(unused, gateContext)).toEqual([]);
    expect(seen.slices).toHaveLength(1);
  });

  it('is refused when it claims a key, type or field another feature or the core has', () => {
    const clash = (overrides: Partial<FeatureDefinition<null>>) => () => assembleConfig([...FEATURES, defineFeature({ name: 'clash', select: () => null, ...overrides })]);
    expect(clash({ section: { key: 'mqtt', schema: z.object({}), title: 'x', description: 'x' } })).toThrow('the section mqtt is taken');
    expect(clash({ section: { key: 'users', schema: z.object({}), title: 'x', description: 'x' } })).toThrow('the section users is taken');
    expect(clash({ inputTypes: [pagerInput.extend({ type: z.literal('serial') })] })).toThrow('input type serial is already defined by serial');
    expect(clash({ inputTypes: [z.string()] })).toThrow('an input type must be a zod object');
  });
});

describe('the registry', () => {
  it('declares every built-in input name once: mqtt-command from the mqtt feature, homekit from the Homebridge side', () => {
    expect(builtInInputs()).toEqual(['mqtt-command', 'homekit', 'http-api']);
  });

  it('knows which built-in inputs a config has (mqtt-command only with an mqtt section)', () => {
    const raw = { auth: { tenantId: 't', clientId: 'c', clientSecret: 's' }, users: [{ key: 'alex', id: 'alex@contoso.example' }] };
    const without = validateConfig(raw);
    const withMqtt = validateConfig({ ...raw, mqtt: { url: 'mqtt://127.0.0.1:1883' } });
    if (!without.ok || !withMqtt.ok) throw new Error('fixture invalid');
    expect(activeBuiltInInputs(without.config)).toEqual(['homekit']);
    expect(activeBuiltInInputs(withMqtt.config)).toEqual(['mqtt-command', 'homekit']);
  });

  it('assembles the schema the generated files come from', () => {
    expect(Object.keys(CONFIG.schema.shape)).toEqual(['platform', 'name', 'cloud', 'auth', 'graph', 'tls', 'proxy', 'users', 'mqtt', 'userGroups', 'fleet', 'workingHours', 'api', 'metrics', 'http', 'inputs', 'outputs', 'homekit', 'onShutdown', '_bridge']);
    expect(CONFIG.features.map((f) => f.name)).toEqual(['mqtt', 'serial', 'homekit', 'userGroups', 'fleet', 'workingHours', 'httpOutput', 'statusPage', 'httpApi', 'metrics', 'http']);
  });

  it('reports a feature check that throws as a problem instead of failing validation', () => {
    const broken = assembleConfig([defineFeature({ name: 'broken', select: () => null, checkRaw: () => { throw new Error('boom'); } })]);
    const result = validateWith(broken, { auth: { tenantId: 't', clientId: 'c', clientSecret: 's' }, users: [{ key: 'alex', id: 'alex@contoso.example' }] });
    expect(result).toEqual({ ok: false, errors: ['(config): the broken feature could not check the config: boom'] });
  });
});

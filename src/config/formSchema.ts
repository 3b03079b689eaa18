import { z } from 'zod';
import { configSchema } from './schema.js';
import { unwrap } from './introspect.js';
import { SESSION_PAIRS, formatPresence } from '../presence/presencePair.js';

/**
 * The Homebridge UI form (`config.schema.json`) and the option table (`docs/configuration.md`),
 * both generated from the zod schema and its `.meta()` so neither can drift from what the
 * validator accepts. `scripts/generate-config-schema.ts` writes the files; a test regenerates
 * them in memory and compares.
 */

type Json = Record<string, unknown>;

/** One option of the config, flattened: `inputs[].map`, `auth.clientSecret`. */
export interface OptionField {
  readonly path: string;
  readonly key: string;
  readonly title: string;
  readonly description: string;
  /** Required in the form: the option and every object above it must be present. */
  readonly required: boolean;
  /** Required whenever its parent object (or its input type) is present. */
  readonly requiredInParent: boolean;
  readonly hasDefault: boolean;
  readonly defaultValue: unknown;
  /**
   * Whether the form may show the default as a value. A form saves every value it shows, so a
   * default inside an optional object (mqtt) or of another input type would be saved where it
   * does not belong; those show their default as a placeholder instead.
   */
  readonly defaultInForm: boolean;
  readonly secret: boolean;
  /** Discriminator values (e.g. `serial`) this option belongs to, when only some have it. */
  readonly only?: { readonly discriminator: string; readonly values: readonly string[] };
  readonly kind: 'leaf' | 'object' | 'array' | 'record';
  /** For arrays: whether the items are objects (rendered as a repeated group). */
  readonly itemsAreObjects?: boolean;
  readonly typeText: string;
  readonly json: Json;
  readonly children: readonly OptionField[];
}

/** Options Homebridge writes itself; not part of the form. */
const HOMEBRIDGE_OWNED = new Set(['platform', '_bridge']);

const PAIR_TEXTS = SESSION_PAIRS.map(formatPresence);

/** Lists whose items are session presences get a drop-down. */
const PRESENCE_LISTS = new Set(['inputs[].toggle', 'homekit.switches']);

/** Fields that take a presence, clear or toggle get a drop-down too. */
const ACTION_FIELDS = new Set(['inputs[].values[].presence']);

function leafJson(schema: z.ZodType): Json {
  const generated = z.toJSONSchema(schema, { target: 'draft-07', unrepresentable: 'any' }) as Json;
  const json: Json = {};
  const anyOf = generated['anyOf'];
  if (Array.isArray(anyOf) && anyOf.every((o) => typeof o === 'object' && o !== null && 'const' in o)) {
    const values = anyOf.map((o: Json) => o['const']);
    json['type'] = values.every((v) => Number.isInteger(v)) ? 'integer' : typeof values[0];
    json['enum'] = values;
    return json;
  }
  for (const key of ['type', 'enum', 'minLength', 'pattern', 'minimum', 'exclusiveMinimum']) {
    if (generated[key] !== undefined) json[key] = generated[key];
  }
  if (generated['const'] !== undefined) json['enum'] = [generated['const']];
  if (json['type'] === 'integer' && json['exclusiveMinimum'] === 0) {
    delete json['exclusiveMinimum'];
    json['minimum'] = 1;
  }
  return json;
}

function leafTypeText(json: Json): string {
  if (Array.isArray(json['enum'])) return json['enum'].map((v) => `\`${String(v)}\``).join(' \\| ');
  switch (json['type']) {
    case 'string':
      return 'text';
    case 'integer':
      return typeof json['minimum'] === 'number' ? `whole number ≥ ${json['minimum']}` : 'whole number';
    case 'number':
      return json['exclusiveMinimum'] === 0 ? 'number > 0' : 'number';
    case 'boolean':
      return 'true/false';
    default:
      return typeof json['type'] === 'string' ? json['type'] : 'any';
  }
}

function isObjectUnion(schema: z.ZodType): schema is z.ZodUnion<readonly z.ZodObject[]> {
  return schema instanceof z.ZodUnion && (schema.options as readonly z.ZodType[]).every((o) => unwrap(o).schema instanceof z.ZodObject);
}

/** Plain JSON-Schema `required` lists (the verified checker's Ajv rejects `"required": true`). */
function objectJson(children: readonly OptionField[]): Json {
  const properties: Json = {};
  for (const child of children) properties[child.key] = child.json;
  const required = children.filter((c) => c.requiredInParent && !c.only).map((c) => c.key);
  return required.length > 0 ? { type: 'object', properties, required } : { type: 'object', properties };
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeField(key: string, schema: z.ZodType, parentPath: string, parentRequired: boolean, formDefaults = true): OptionField {
  const u = unwrap(schema);
  const path = parentPath === '' ? key : `${parentPath}.${key}`;
  const required = parentRequired && !u.optional;
  const title = u.meta.title ?? key;
  const description = u.meta.description ?? '';
  const defaultInForm = formDefaults && u.hasDefault && !isPlainObject(u.defaultValue);
  const base = { path, key, title, description, required, requiredInParent: !u.optional, hasDefault: u.hasDefault, defaultValue: u.defaultValue, defaultInForm, secret: u.meta.secret === true };
  const inner = u.schema;
  // Children of an object the form may leave out must not get defaults the form would save.
  const childDefaults = formDefaults && (!u.optional || u.hasDefault);

  const decorate = (json: Json): Json => {
    const out: Json = { title, description, ...json };
    if (defaultInForm) out['default'] = u.defaultValue;
    return out;
  };

  if (inner instanceof z.ZodObject || isObjectUnion(inner)) {
    const children = objectChildren(inner, path, required, childDefaults);
    return { ...base, kind: 'object', typeText: 'object', json: decorate(objectJson(children)), children };
  }
  if (inner instanceof z.ZodArray) {
    const element = unwrap(inner.element as z.ZodType).schema;
    const minItems = arrayMin(inner);
    if (element instanceof z.ZodObject || isObjectUnion(element)) {
      // The form keeps a list item that holds any value, so an item's defaults would make a
      // phantom item of every untouched list: items show their defaults as placeholders.
      const children = objectChildren(element, `${path}[]`, true, false);
      const json: Json = { type: 'array', items: objectJson(children) };
      if (minItems !== undefined) json['minItems'] = minItems;
      return { ...base, kind: 'array', itemsAreObjects: true, typeText: 'list of objects', json: decorate(json), children };
    }
    const items = leafJson(element);
    if (PRESENCE_LISTS.has(path)) items['enum'] = PAIR_TEXTS;
    const json: Json = { type: 'array', items };
    if (minItems !== undefined) json['minItems'] = minItems;
    const itemText = PRESENCE_LISTS.has(path) ? 'presence' : leafTypeText(items);
    return { ...base, kind: 'array', itemsAreObjects: false, typeText: `list of ${itemText}`, json: decorate(json), children: [] };
  }
  if (inner instanceof z.ZodRecord) {
    const value = unwrap(inner.valueType as z.ZodType).schema;
    let valueJson: Json;
    let valueText: string;
    if (isObjectUnion(value) || value instanceof z.ZodUnion) {
      // A map entry: a presence text, or {set, for}.
      const options = (value.options as readonly z.ZodType[]).map((o) => unwrap(o).schema);
      valueJson = {
        anyOf: options.map((o) => {
          if (o instanceof z.ZodObject) {
            return objectJson(objectChildren(o, `${path}.*`, true));
          }
          return leafJson(o);
        }),
      };
      valueText = 'presence \\| `clear` \\| `toggle` \\| `{set, for}`';
    } else {
      valueJson = leafJson(value);
      valueText = leafTypeText(valueJson);
    }
    return { ...base, kind: 'record', typeText: `map of key → ${valueText}`, json: decorate({ type: 'object', additionalProperties: valueJson }), children: [] };
  }
  const json = leafJson(inner);
  if (ACTION_FIELDS.has(path)) {
    json['enum'] = [...PAIR_TEXTS, 'clear', 'toggle'];
    return { ...base, kind: 'leaf', typeText: 'presence \\| `clear` \\| `toggle`', json: decorate(json), children: [] };
  }
  return { ...base, kind: 'leaf', typeText: leafTypeText(json), json: decorate(json), children: [] };
}

function arrayMin(array: z.ZodArray): number | undefined {
  const generated = z.toJSONSchema(array, { target: 'draft-07', unrepresentable: 'any' }) as Json;
  return typeof generated['minItems'] === 'number' ? generated['minItems'] : undefined;
}

/** Fields of an object, or of the variants of a discriminated union merged into one form. */
function objectChildren(schema: z.ZodObject | z.ZodUnion<readonly z.ZodObject[]>, path: string, required: boolean, formDefaults = true): OptionField[] {
  if (schema instanceof z.ZodObject) {
    return Object.entries(schema.shape as Record<string, z.ZodType>)
      .filter(([key]) => path !== '' || !HOMEBRIDGE_OWNED.has(key))
      .map(([key, field]) => describeField(key, field, path, required, formDefaults));
  }
  const variants = (schema.options as readonly z.ZodType[]).map((o) => unwrap(o).schema as z.ZodObject);
  const discriminator = 'type';
  const valueOf = (variant: z.ZodObject): string => {
    const literal = (variant.shape as Record<string, z.ZodType>)[discriminator];
    return literal instanceof z.ZodLiteral ? String(literal.value) : '?';
  };
  const allValues = variants.map(valueOf);
  const byKey = new Map<string, { field: OptionField; values: string[] }>();
  // Merged order: a variant's own option follows the option it follows in that variant, so
  // "Port" sits right under "User" for serial inputs, as "Topic" does for MQTT ones.
  const order: string[] = [];
  for (const variant of variants) {
    let previous: string | undefined;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- shape of a plain ZodObject is loosely typed
    for (const [key, field] of Object.entries(variant.shape as Record<string, z.ZodType>)) {
      const seen = byKey.get(key);
      if (seen) seen.values.push(valueOf(variant));
      else {
        byKey.set(key, { field: describeField(key, field, path, required, formDefaults), values: [valueOf(variant)] });
        order.splice(previous === undefined ? 0 : order.indexOf(previous) + 1, 0, key);
      }
      previous = key;
    }
  }
  const fields: OptionField[] = [];
  for (const key of order) {
    const { field, values } = byKey.get(key)!;
    if (key === discriminator) {
      const json = { ...field.json, enum: allValues };
      fields.push({ ...field, typeText: allValues.map((v) => `\`${v}\``).join(' \\| '), json });
    } else if (values.length < allValues.length) {
      // Hidden for the other types, so its default would be saved where it does not belong.
      fields.push({ ...field, required: false, defaultInForm: false, json: withoutDefault(field.json), only: { discriminator, values } });
    } else {
      fields.push(field);
    }
  }
  return fields;
}

function withoutDefault(json: Json): Json {
  const { default: _default, ...rest } = json;
  return rest;
}

/** Every option of the config, top level first, children in schema order. */
export function configFields(options: { includeHomebridgeOwned?: boolean } = {}): OptionField[] {
  const fields = objectChildren(configSchema, '', true);
  if (!options.includeHomebridgeOwned) return fields;
  const platform = describeField('platform', configSchema.shape.platform, '', true);
  return [platform, ...fields];
}

export function flattenFields(fields: readonly OptionField[]): OptionField[] {
  return fields.flatMap((f) => [f, ...flattenFields(f.children)]);
}

// ---------------------------------------------------------------------------------------------
// Homebridge form layout

interface Group {
  readonly title: string;
  readonly description: string;
  readonly expanded: boolean;
  /** Option paths placed in this group; the most specific match wins. */
  readonly paths: readonly string[];
}

/** Form sections, in order. An option no group names lands in Advanced, so none goes missing. */
export const FORM_GROUPS: readonly Group[] = [
  { title: 'Sign-in', description: 'The Entra ID app registration the bridge signs in with.', expanded: true, paths: ['name', 'cloud', 'auth'] },
  { title: 'Users', description: 'The people whose Teams presence this bridge sets.', expanded: true, paths: ['users'] },
  { title: 'MQTT', description: 'Broker for MQTT inputs, the command topic, state topics and Home Assistant discovery.', expanded: false, paths: ['mqtt'] },
  { title: 'Inputs', description: 'Devices whose signals set presence.', expanded: false, paths: ['inputs'] },
  { title: 'Outputs', description: 'Devices that show presence.', expanded: false, paths: ['outputs'] },
  { title: 'HomeKit', description: 'Accessories exposed per user.', expanded: false, paths: ['homekit'] },
  { title: 'Advanced', description: 'Graph, TLS, proxy and shutdown behaviour; the defaults suit most setups.', expanded: false, paths: ['auth.authorityHost', 'graph', 'tls', 'proxy', 'onShutdown'] },
];

/** The form section an option path lands in. */
export function groupOf(path: string): string {
  let best: { title: string; length: number } = { title: 'Advanced', length: -1 };
  for (const group of FORM_GROUPS) {
    for (const prefix of group.paths) {
      if ((path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[]`)) && prefix.length > best.length) {
        best = { title: group.title, length: prefix.length };
      }
    }
  }
  return best.title;
}

/** Extra conditions on the form: fields that only matter in one sign-in mode. */
const APPLICATION_ONLY = new Set(['auth.clientSecret', 'auth.certificate']);

function conditionFor(field: OptionField): Json | undefined {
  if (APPLICATION_ONLY.has(field.path)) return { functionBody: "return !model.auth || model.auth.mode !== 'delegated';" };
  if (field.only) {
    const array = field.path.slice(0, field.path.indexOf('[]'));
    const values = field.only.values.map((v) => `'${v}'`).join(', ');
    const item = `model.${array}[arrayIndices]`;
    return { functionBody: `return !!(model.${array} && ${item} && [${values}].includes(${item}.${field.only.discriminator}));` };
  }
  return undefined;
}

function withCondition(item: Json, field: OptionField): Json {
  const condition = conditionFor(field);
  return condition ? { ...item, condition } : item;
}

function layoutItems(fields: readonly OptionField[], group: string): (Json | string)[] {
  const items: (Json | string)[] = [];
  for (const field of fields) {
    if (field.kind === 'object') {
      const inner = layoutItems(field.children, group);
      if (inner.length === 0) continue;
      // Top-level objects are flattened into their section, and so are objects inside a list
      // item: anything but a field inside a list is drawn as a list item of its own (a phantom
      // entry on save). Other nested objects become a collapsed fieldset.
      if (!field.path.includes('.') || field.path.includes('[]')) items.push(...inner);
      else items.push(withCondition({ type: 'fieldset', title: field.title, description: field.description, expandable: true, expanded: false, items: inner }, field));
      continue;
    }
    if (groupOf(field.path) !== group) continue;
    if (field.kind === 'array' && field.itemsAreObjects) {
      // A list that is its whole section (Users, Inputs) leaves the title to the section.
      const ownSection = !field.path.includes('.') && !field.path.includes('[]') && field.title === group;
      items.push({
        key: field.path,
        type: 'array',
        ...(ownSection ? { notitle: true } : { title: field.title, description: field.description }),
        orderable: false,
        buttonText: `Add ${field.title.toLowerCase().replace(/s$/, '')}`,
        items: layoutItems(field.children, group),
      });
    } else if (field.kind === 'array') {
      items.push(withCondition({ key: field.path, type: 'array', title: field.title, description: field.description, items: [`${field.path}[]`] }, field));
    } else if (field.kind === 'record') {
      // A free-form map has no form widget, and a help text inside a list becomes a phantom
      // list item; the form edits its twin list instead (inputs[].values).
      continue;
    } else {
      items.push(leafItem(field));
    }
  }
  return items;
}

/** A field's layout entry: a password box for secrets, the default as a placeholder where the form must not save it. */
function leafItem(field: OptionField): Json | string {
  const item: Json = { key: field.path };
  if (field.secret) item['type'] = 'password';
  if (field.hasDefault && !field.defaultInForm && field.json['type'] === 'boolean') {
    // An untouched checkbox saves false; a drop-down left empty saves nothing.
    item['type'] = 'select';
    item['titleMap'] = [true, false].map((value) => ({ value, name: `${value ? 'Yes' : 'No'}${value === field.defaultValue ? ' (default)' : ''}` }));
  }
  if (field.hasDefault && !field.defaultInForm && field.json['type'] !== 'boolean' && !Array.isArray(field.defaultValue)) {
    // JSON's escapes, so a newline default reads \n rather than as an empty box.
    item['placeholder'] = typeof field.defaultValue === 'string' ? JSON.stringify(field.defaultValue).slice(1, -1) : String(field.defaultValue);
  }
  const withIt = withCondition(item, field);
  return Object.keys(withIt).length === 1 ? field.path : withIt;
}

/** Where the docs are read online; package.json's homepage points at the same repository. */
export const REPOSITORY_URL = 'https://github.com/presence-bridge/homebridge-presence-bridge';

export const HEADER_DISPLAY =
  'Turns desk signals (MQTT topics, serial ports, HomeKit switches) into Microsoft Teams presence through Microsoft Graph presence sessions. ' +
  `Every option is explained in the [configuration guide](${REPOSITORY_URL}/blob/main/docs/configuration.md).`;

export function buildConfigSchema(): Json {
  const fields = configFields();
  const layout = FORM_GROUPS.map((group) => {
    const items = layoutItems(fields, group.title);
    // A section that is one list (Users, Inputs): the list shows its own description.
    const listOnly = items.length === 1 && typeof items[0] === 'object' && items[0]['notitle'] === true;
    return { type: 'fieldset', title: group.title, ...(listOnly ? {} : { description: group.description }), expandable: true, expanded: group.expanded, items };
  }).filter((g) => g.items.length > 0);
  return {
    pluginAlias: 'PresenceBridge',
    pluginType: 'platform',
    singular: true,
    customUi: true,
    headerDisplay: HEADER_DISPLAY,
    footerDisplay: 'Secrets are stored in Homebridge\'s config.json; the bridge never logs them.',
    schema: objectJson(fields),
    layout,
  };
}

export function renderConfigSchema(): string {
  return `${JSON.stringify(buildConfigSchema(), null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------------
// docs/configuration.md

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function cellRaw(text: string): string {
  return text.replace(/\n/g, ' ');
}

function defaultText(field: OptionField, parent: OptionField | undefined): string {
  if (field.hasDefault) {
    const value = field.defaultValue;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return '';
    return `\`${cell(JSON.stringify(value))}\``;
  }
  if (field.required) return '**required**';
  if (field.requiredInParent) {
    if (field.only) return `**required** for ${field.only.values.join(', ')}`;
    if (parent) return `**required** in \`${parent.path}\``;
  }
  return '';
}

function docRows(fields: readonly OptionField[], parent?: OptionField): { field: OptionField; parent: OptionField | undefined }[] {
  return fields.flatMap((field) => [{ field, parent }, ...docRows(field.children, field)]);
}

export function renderConfigurationDoc(): string {
  const rows = docRows(configFields({ includeHomebridgeOwned: true }));
  const lines = [
    '<!-- Generated from src/config/schema.ts by scripts/generate-config-schema.ts; do not edit by hand. -->',
    '# Configuration',
    '',
    'One JSON block configures the bridge, the same in Homebridge (`platforms` in `config.json`) and',
    'for the standalone `presence-bridge` daemon, which reads a file holding the block or a whole',
    'Homebridge `config.json` (it picks the block with `"platform": "PresenceBridge"`).',
    '',
    'Check a file before using it:',
    '',
    '```sh',
    'presence-bridge check-config config.json         # summary, exit 0; or every mistake, exit 2',
    'presence-bridge check-config config.json --json  # the same as JSON',
    '```',
    '',
    'Every mistake is reported at once as `path: message`, e.g.',
    '`inputs[1].map.OFFHOOK: "Busy/Lunch" is not a presence setPresence accepts; use one of …`.',
    'Unknown options are errors too, so a misspelt option never passes silently. An optional option',
    'left empty (`""` or `{}`, as a form saves a cleared field) counts as not set.',
    '',
    '## Presences',
    '',
    `A presence is written \`Availability/Activity\`; setPresence accepts exactly ${PAIR_TEXTS.map((p) => `\`${p}\``).join(', ')}`,
    '(case and spaces around the slash do not matter). An input\'s value map may also say `clear`',
    '(this input asks for nothing), `toggle` (cycle through the input\'s `toggle` list, then clear; the',
    'list is then required) or `{"set": "Busy/InACall", "for": "PT30M"}` (a presence that ends by',
    'itself after an ISO 8601 duration). Input values match case-insensitively after trimming.',
    '',
    'Other rules checked together with the table below: user keys and input/output names are unique;',
    '`user` may be left out only when exactly one user is configured; a user `id` is an Entra object id',
    '(GUID) or a user principal name (`name@domain`) and never contains `/`, `?`, `#`, `%`, spaces or `..`;',
    '`graph.expiration` lies between PT5M and PT4H; application mode takes `clientSecret` or',
    '`certificate` (not both); `auth.authorityHost` and `graph.baseUrl` are `https://` URLs; `mqtt` is',
    'required when an input has type `mqtt`, and its URL starts with `mqtt://`, `mqtts://`, `ws://` or',
    '`wss://`; serial inputs and outputs on the same port agree on the baud rate.',
    '',
    '## Example',
    '',
    '```json',
    JSON.stringify(EXAMPLE, null, 2),
    '```',
    '',
    '## Options',
    '',
    'Paths use `[]` for "each entry of the list". Options marked *mqtt only* or *serial only* apply to',
    'inputs of that `type`.',
    '',
    '| Option | Type | Default | Description |',
    '| --- | --- | --- | --- |',
    ...rows.map(({ field: f, parent }) => {
      const only = f.only ? `*${f.only.values.join(', ')} only.* ` : '';
      const secret = f.secret ? ' Shown as a password field.' : '';
      return `| \`${f.path}\` | ${cellRaw(f.typeText)} | ${defaultText(f, parent)} | ${cell(`${only}${f.title}: ${f.description}${secret}`)} |`;
    }),
    '',
  ];
  return lines.join('\n');
}

const EXAMPLE = {
  platform: 'PresenceBridge',
  name: 'Presence Bridge',
  cloud: 'global',
  auth: { mode: 'application', tenantId: 'your-tenant-id', clientId: 'your-client-id', clientSecret: 'your-client-secret' },
  graph: { expiration: 'PT1H' },
  users: [{ key: 'alex', id: 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3' }],
  mqtt: { url: 'mqtt://127.0.0.1:1883', baseTopic: 'presence-bridge' },
  inputs: [
    {
      name: 'Desk button',
      type: 'mqtt',
      topic: 'zigbee2mqtt/desk_button',
      field: 'action',
      user: 'alex',
      map: { single: 'toggle', hold: { set: 'DoNotDisturb/Presenting', for: 'PT30M' } },
      toggle: ['Busy/InACall'],
    },
    { name: 'Headset', type: 'serial', path: '/dev/serial/by-id/usb-hook', baudRate: 9600, user: 'alex', map: { OFFHOOK: 'Busy/InACall', ONHOOK: 'clear' } },
  ],
};

/** The example above, for a test that proves it validates. */
export const DOC_EXAMPLE: unknown = EXAMPLE;

import { z } from 'zod';
import { unwrap } from './introspect.js';
import { SESSION_PAIRS, formatPresence } from '../presence/presencePair.js';

/**
 * The config schema read as a tree of options ({@link OptionField}): title, description, default,
 * whether required, its JSON Schema and a type text. The Homebridge form (formSchema.ts) and the
 * option table (configDoc.ts) are both drawn from it, so neither can drift from what the
 * validator accepts.
 */

export type Json = Record<string, unknown>;

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

export const PAIR_TEXTS = SESSION_PAIRS.map(formatPresence);

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
export function objectJson(children: readonly OptionField[]): Json {
  const properties: Json = {};
  for (const child of children) properties[child.key] = child.json;
  const required = children.filter((c) => c.requiredInParent && !c.only).map((c) => c.key);
  return required.length > 0 ? { type: 'object', properties, required } : { type: 'object', properties };
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

type Base = Omit<OptionField, 'kind' | 'typeText' | 'json' | 'children' | 'itemsAreObjects'>;

/** What every kind of field shares, and how its JSON gets title, description and default. */
interface FieldStart {
  readonly base: Base;
  readonly decorate: (json: Json) => Json;
  readonly childDefaults: boolean;
}

function fieldStart(key: string, schema: z.ZodType, parentPath: string, parentRequired: boolean, formDefaults: boolean): { start: FieldStart; inner: z.ZodType } {
  const u = unwrap(schema);
  const path = parentPath === '' ? key : `${parentPath}.${key}`;
  const required = parentRequired && !u.optional;
  const title = u.meta.title ?? key;
  const description = u.meta.description ?? '';
  const defaultInForm = formDefaults && u.hasDefault && !isPlainObject(u.defaultValue);
  const base = { path, key, title, description, required, requiredInParent: !u.optional, hasDefault: u.hasDefault, defaultValue: u.defaultValue, defaultInForm, secret: u.meta.secret === true };
  const decorate = (json: Json): Json => {
    const out: Json = { title, description, ...json };
    if (defaultInForm) out['default'] = u.defaultValue;
    return out;
  };
  // Children of an object the form may leave out must not get defaults the form would save.
  const childDefaults = formDefaults && (!u.optional || u.hasDefault);
  return { start: { base, decorate, childDefaults }, inner: u.schema };
}

function describeField(key: string, schema: z.ZodType, parentPath: string, parentRequired: boolean, formDefaults = true): OptionField {
  const { start, inner } = fieldStart(key, schema, parentPath, parentRequired, formDefaults);
  const { base, decorate } = start;
  if (inner instanceof z.ZodObject || isObjectUnion(inner)) {
    const children = objectChildren(inner, base.path, base.required, start.childDefaults);
    return { ...base, kind: 'object', typeText: 'object', json: decorate(objectJson(children)), children };
  }
  if (inner instanceof z.ZodArray) return arrayField(start, inner);
  if (inner instanceof z.ZodRecord) return recordField(start, inner);
  const json = leafJson(inner);
  if (ACTION_FIELDS.has(base.path)) {
    json['enum'] = [...PAIR_TEXTS, 'clear', 'toggle'];
    return { ...base, kind: 'leaf', typeText: 'presence \\| `clear` \\| `toggle`', json: decorate(json), children: [] };
  }
  return { ...base, kind: 'leaf', typeText: leafTypeText(json), json: decorate(json), children: [] };
}

function arrayField({ base, decorate }: FieldStart, array: z.ZodArray): OptionField {
  const element = unwrap(array.element as z.ZodType).schema;
  const minItems = arrayMin(array);
  if (element instanceof z.ZodObject || isObjectUnion(element)) {
    // The form keeps a list item that holds any value, so an item's defaults would make a
    // phantom item of every untouched list: items show their defaults as placeholders.
    const children = objectChildren(element, `${base.path}[]`, true, false);
    const json: Json = { type: 'array', items: objectJson(children) };
    if (minItems !== undefined) json['minItems'] = minItems;
    return { ...base, kind: 'array', itemsAreObjects: true, typeText: 'list of objects', json: decorate(json), children };
  }
  const items = leafJson(element);
  if (PRESENCE_LISTS.has(base.path)) items['enum'] = PAIR_TEXTS;
  const json: Json = { type: 'array', items };
  if (minItems !== undefined) json['minItems'] = minItems;
  const itemText = PRESENCE_LISTS.has(base.path) ? 'presence' : leafTypeText(items);
  return { ...base, kind: 'array', itemsAreObjects: false, typeText: `list of ${itemText}`, json: decorate(json), children: [] };
}

function recordField({ base, decorate }: FieldStart, record: z.ZodRecord): OptionField {
  const value = unwrap(record.valueType as z.ZodType).schema;
  let valueJson: Json;
  let valueText: string;
  if (isObjectUnion(value) || value instanceof z.ZodUnion) {
    // A map entry: a presence text, or {set, for}.
    const options = (value.options as readonly z.ZodType[]).map((o) => unwrap(o).schema);
    valueJson = { anyOf: options.map((o) => (o instanceof z.ZodObject ? objectJson(objectChildren(o, `${base.path}.*`, true)) : leafJson(o))) };
    valueText = 'presence \\| `clear` \\| `toggle` \\| `{set, for}`';
  } else {
    valueJson = leafJson(value);
    valueText = leafTypeText(valueJson);
  }
  return { ...base, kind: 'record', typeText: `map of key → ${valueText}`, json: decorate({ type: 'object', additionalProperties: valueJson }), children: [] };
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

/** Every option of a config schema, top level first, children in schema order. */
export function configFields(schema: z.ZodObject, options: { includeHomebridgeOwned?: boolean } = {}): OptionField[] {
  const fields = objectChildren(schema, '', true);
  const platform = (schema.shape as Record<string, z.ZodType>)['platform'];
  if (!options.includeHomebridgeOwned || !platform) return fields;
  return [describeField('platform', platform, '', true), ...fields];
}

export function flattenFields(fields: readonly OptionField[]): OptionField[] {
  return fields.flatMap((f) => [f, ...flattenFields(f.children)]);
}


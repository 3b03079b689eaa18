import { z } from 'zod';

/**
 * Reading the zod config schema as data: the JSON schema generator, the option table and the
 * "did you mean" hints of validation all walk the same schema through these helpers.
 */

export interface FieldMeta {
  title?: string;
  description?: string;
  /** A credential: a password field in the form, never shown in summaries or messages. */
  secret?: boolean;
}

/** A schema with its wrappers (optional, default, prefault) peeled off, and what they said. */
export interface Unwrapped {
  readonly schema: z.ZodType;
  readonly optional: boolean;
  readonly hasDefault: boolean;
  readonly defaultValue: unknown;
  readonly meta: FieldMeta;
}

function metaOf(schema: z.ZodType): FieldMeta {
  const found = z.globalRegistry.get(schema);
  const meta: FieldMeta = {};
  if (found && typeof found.title === 'string') meta.title = found.title;
  if (found && typeof found.description === 'string') meta.description = found.description;
  if (found && found['secret'] === true) meta.secret = true;
  return meta;
}

export function unwrap(schema: z.ZodType): Unwrapped {
  let current: z.ZodType = schema;
  let optional = false;
  let hasDefault = false;
  let defaultValue: unknown;
  const meta: FieldMeta = {};
  // Outer metadata wins over the inner schema's own.
  const absorb = (m: FieldMeta): void => {
    if (meta.title === undefined && m.title !== undefined) meta.title = m.title;
    if (meta.description === undefined && m.description !== undefined) meta.description = m.description;
    if (m.secret) meta.secret = true;
  };
  for (;;) {
    absorb(metaOf(current));
    if (current instanceof z.ZodOptional) {
      optional = true;
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodDefault || current instanceof z.ZodPrefault) {
      if (!hasDefault) {
        hasDefault = true;
        defaultValue = (current._zod.def as { defaultValue: unknown }).defaultValue;
      }
      optional = true;
      current = current.unwrap() as z.ZodType;
    } else {
      break;
    }
  }
  return { schema: current, optional, hasDefault, defaultValue, meta };
}

/** Known keys of the object schema that `path` leads to in `root`, following `raw` through unions. */
export function knownKeysAt(root: z.ZodType, path: readonly PropertyKey[], raw: unknown): string[] | undefined {
  let schema: z.ZodType | undefined = unwrap(root).schema;
  let value: unknown = raw;
  const pick = (s: z.ZodType, v: unknown): z.ZodType | undefined => {
    const inner = unwrap(s).schema;
    if (inner instanceof z.ZodUnion) {
      const options = inner.options as readonly z.ZodType[];
      const objects = options.filter((o) => unwrap(o).schema instanceof z.ZodObject);
      if (objects.length <= 1) return objects[0] ? unwrap(objects[0]).schema : undefined;
      const type = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)['type'] : undefined;
      for (const option of objects) {
        const object = unwrap(option).schema as z.ZodObject;
        const literal: unknown = (object.shape as Record<string, unknown>)['type'];
        if (literal instanceof z.ZodLiteral && literal.value === type) return object;
      }
      return undefined;
    }
    return inner;
  };
  schema = schema ? pick(schema, value) : undefined;
  for (const segment of path) {
    if (!schema) return undefined;
    const next: unknown = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[segment] : undefined;
    if (schema instanceof z.ZodObject && typeof segment === 'string') {
      const field = (schema.shape as Record<string, z.ZodType>)[segment];
      schema = field ? pick(field, next) : undefined;
    } else if (schema instanceof z.ZodArray && typeof segment === 'number') {
      schema = pick(schema.element as z.ZodType, next);
    } else if (schema instanceof z.ZodRecord) {
      schema = pick(schema.valueType as z.ZodType, next);
    } else {
      return undefined;
    }
    value = next;
  }
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : undefined;
}

/** Edit distance, for "did you mean" hints on misspelt option names. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = current;
  }
  return previous[y.length] ?? 0;
}

export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const limit = Math.max(2, Math.floor(word.length / 3));
  return bestDistance <= limit ? best : undefined;
}

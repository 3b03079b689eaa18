import { z } from 'zod';
import { unwrap } from './introspect.js';
import { isRecord } from './paths.js';

/**
 * A copy of `value` without optional options left empty: `""` and `{}` where the option has no
 * default. Form editors (the Homebridge UI) save a cleared field that way; it means "not set".
 * Required options stay, so an empty tenant id is still reported.
 */
export function dropEmptyOptionals(schema: z.ZodType, value: unknown): unknown {
  const inner = unwrap(schema).schema;
  if (Array.isArray(value) && inner instanceof z.ZodArray) return value.map((item) => dropEmptyOptionals(inner.element as z.ZodType, item));
  if (!isRecord(value)) return value;
  let object: z.ZodObject | undefined;
  if (inner instanceof z.ZodObject) object = inner;
  else if (inner instanceof z.ZodUnion) {
    for (const option of inner.options as readonly z.ZodType[]) {
      const candidate = unwrap(option).schema;
      if (!(candidate instanceof z.ZodObject)) continue;
      const literal: unknown = (candidate.shape as Record<string, unknown>)['type'];
      if (literal instanceof z.ZodLiteral && literal.value === value['type']) object = candidate;
    }
  }
  if (!object) return value;
  const shape = object.shape as Record<string, z.ZodType>;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const field = shape[key];
    if (!field) {
      out[key] = item;
      continue;
    }
    const cleaned = dropEmptyOptionals(field, item);
    const { optional, hasDefault } = unwrap(field);
    const empty = cleaned === '' || (isRecord(cleaned) && Object.keys(cleaned).length === 0 && unwrap(field).schema instanceof z.ZodObject);
    if (optional && !hasDefault && empty) continue;
    out[key] = cleaned;
  }
  return out;
}

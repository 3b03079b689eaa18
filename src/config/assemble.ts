import { z } from 'zod';
import type { FeatureConfig, FormSection } from './contribution.js';
import { configHead, configTail, INPUTS_META, OUTPUTS_META, userSchema, USERS_META } from './schema.js';
import type { ReservedInputs } from './inputChecks.js';

/**
 * The one config schema, assembled from the core options and every registered feature's slice:
 * its section, its input and output variants (joined into discriminated unions on `type`), and
 * the fields it adds to every user and every input. config/ knows features only through this
 * shape; the registry (src/features.ts, the top layer) passes them in.
 */

/** The config side of a feature: what validation, the form and the doc need. */
export type ConfigContribution = FeatureConfig;

export interface AssembledConfig {
  readonly schema: z.ZodObject;
  readonly features: readonly ConfigContribution[];
  /** Reserved input names (lower case) and what each is for. */
  readonly reserved: ReservedInputs;
  /** The features' form sections, in registry order. */
  readonly formSections: readonly FormSection[];
}

function objectsOf(feature: ConfigContribution, kind: 'input' | 'output'): z.ZodObject[] {
  const variants = (kind === 'input' ? feature.inputTypes : feature.outputTypes) ?? [];
  return variants.map((variant) => {
    if (!(variant instanceof z.ZodObject)) throw new Error(`feature ${feature.name}: an ${kind} type must be a zod object`);
    const literal: unknown = (variant.shape as Record<string, unknown>)['type'];
    if (!(literal instanceof z.ZodLiteral)) throw new Error(`feature ${feature.name}: an ${kind} type needs type: z.literal(...)`);
    return variant;
  });
}

/** One list of entries: a discriminated union on `type` of every feature's variants. */
function entryList(features: readonly ConfigContribution[], kind: 'input' | 'output', extra: Record<string, z.ZodType>): z.ZodType {
  const variants: z.ZodObject[] = [];
  const seen = new Map<unknown, string>();
  for (const feature of features) {
    for (const variant of objectsOf(feature, kind)) {
      const value = ((variant.shape as Record<string, unknown>)['type'] as z.ZodLiteral).value;
      const other = seen.get(value);
      if (other !== undefined) throw new Error(`feature ${feature.name}: ${kind} type ${String(value)} is already defined by ${other}`);
      seen.set(value, feature.name);
      variants.push(Object.keys(extra).length > 0 ? variant.extend(extra) : variant);
    }
  }
  const [first, ...rest] = variants;
  const union = first === undefined ? z.never() : z.discriminatedUnion('type', [first, ...rest]);
  return z
    .array(union)
    .default([])
    .meta(kind === 'input' ? INPUTS_META : OUTPUTS_META);
}

function mergedFields(features: readonly ConfigContribution[], kind: 'userFields' | 'inputFields'): Record<string, z.ZodType> {
  const fields: Record<string, z.ZodType> = {};
  for (const feature of features) {
    for (const [key, schema] of Object.entries(feature[kind] ?? {})) {
      if (key in fields) throw new Error(`feature ${feature.name}: ${kind} ${key} is already added by another feature`);
      fields[key] = schema;
    }
  }
  return fields;
}

function sections(features: readonly ConfigContribution[]): Record<string, z.ZodType> {
  const shape: Record<string, z.ZodType> = {};
  const core = new Set([...Object.keys(configHead), ...Object.keys(configTail), 'users', 'inputs', 'outputs']);
  for (const feature of features) {
    const section = feature.section;
    if (!section) continue;
    if (core.has(section.key) || section.key in shape) throw new Error(`feature ${feature.name}: the section ${section.key} is taken`);
    shape[section.key] = section.schema.meta({ title: section.title, description: section.description });
  }
  return shape;
}

function reservedNames(features: readonly ConfigContribution[]): ReservedInputs {
  const reserved = new Map<string, string>();
  for (const feature of features) {
    for (const name of feature.reservedInputs ?? []) reserved.set(name.trim().toLowerCase(), feature.reservedFor ?? `${feature.name} input`);
  }
  return reserved;
}

/** Throws (a programming error, caught by the registry's tests) when two features claim the same key, type or field. */
export function assembleConfig(features: readonly ConfigContribution[]): AssembledConfig {
  const userFields = mergedFields(features, 'userFields');
  const users = z
    .array(Object.keys(userFields).length > 0 ? userSchema.extend(userFields) : userSchema)
    .default([])
    .meta(USERS_META);
  const schema = z
    .object({
      ...configHead,
      users,
      ...sections(features),
      inputs: entryList(features, 'input', mergedFields(features, 'inputFields')),
      outputs: entryList(features, 'output', {}),
      ...configTail,
    })
    .strict();
  const formSections = features.flatMap((f) => (f.form ? [f.form] : []));
  return { schema, features, reserved: reservedNames(features), formSections };
}

import type { z } from 'zod';
import { assembleConfig, type AssembledConfig } from './config/assemble.js';
import { renderConfigurationDoc as renderDoc } from './config/configDoc.js';
import { buildConfigSchema as buildForm, renderConfigSchema as renderForm } from './config/formSchema.js';
import type { PresenceBridgeConfig } from './config/schema.js';
import { loadConfigFileWith, type LoadOptions, type LoadResult } from './config/load.js';
import { validateWith, type ValidationResult } from './config/validate.js';
import { FEATURES } from './features.js';

/**
 * The config as the registry makes it: the core options plus every feature's slice, assembled
 * once. Everything that validates, loads or documents a config goes through here, so a feature
 * added to src/features.ts shows up in all of them.
 */

export const CONFIG: AssembledConfig = assembleConfig(FEATURES);

/**
 * The full zod schema (core + features), typed as what it parses to. The cast is the one place
 * the two meet: features declare their slices' types beside their zod schemas (declaration
 * merging into config/schema.ts) and the registry joins the same zod schemas here. Parsing does
 * not normalise; {@link validateConfig} does.
 */
export const configSchema = CONFIG.schema as unknown as z.ZodType<PresenceBridgeConfig, unknown>;

export type { ValidationResult } from './config/validate.js';

export function validateConfig(raw: unknown): ValidationResult {
  return validateWith(CONFIG, raw);
}

/** Reads a config file (a platform block or a whole Homebridge config.json) and validates it. */
export function loadConfigFile(file: string, options: LoadOptions = {}): Promise<LoadResult> {
  return loadConfigFileWith(validateConfig, file, options);
}

/** `config.schema.json`, the Homebridge UI form. */
export function buildConfigSchema(): Record<string, unknown> {
  return buildForm(CONFIG);
}

export function renderConfigSchema(): string {
  return renderForm(CONFIG);
}

/** `docs/configuration.md`. */
export function renderConfigurationDoc(): string {
  return renderDoc(CONFIG);
}

import type { z } from 'zod';
import type { PresenceBridgeConfig } from './schema.js';

/*
 * The part of a feature (src/feature.ts) the config layer reads: its slice of the schema, its
 * checks, its place in the form and the doc. Here, below the feature seam, so assembling the
 * config never imports upward; FeatureDefinition extends it.
 */

/** Where a cross-check reports a problem: `path` like `inputs[2].port` or `http.port`. */
export interface ConfigReport {
  error(path: string, message: string): void;
  warning(path: string, message: string): void;
}

/** A section of the Homebridge form. */
export interface FormSection {
  readonly title: string;
  readonly description: string;
  /** Open when the form loads. */
  readonly expanded?: boolean;
  /** Option paths placed in this section (`mqtt`, `inputs[].workingHoursExempt`); the most specific match wins. */
  readonly paths: readonly string[];
}

/** What a feature contributes to the config. */
export interface FeatureConfig {
  /** Short name: log prefix, form section, registry key (`mqtt`, `serial`, `statusPage`, `httpApi`…). */
  readonly name: string;
  /** A top-level config section the feature owns (`mqtt`, `http`…), with its zod schema. */
  readonly section?: { readonly key: string; readonly schema: z.ZodType; readonly title: string; readonly description: string };
  /** Input variants the feature accepts: zod objects with `type: z.literal(...)` and the common input fields. */
  readonly inputTypes?: readonly z.ZodType[];
  /** Output variants, as for inputs. */
  readonly outputTypes?: readonly z.ZodType[];
  /** Input names the feature delivers through `bridge.setIntent` (e.g. `mqtt-command`); no configured input may take one. */
  readonly reservedInputs?: readonly string[];
  /**
   * Checks that need more than one field (ports shared by two entries, a topic that needs `mqtt`…),
   * on a config zod accepted, after normalisation; see {@link checkRaw} for checks that must run
   * next to structural errors.
   */
  check?(config: PresenceBridgeConfig, report: ConfigReport): void;
  /**
   * Fields the feature adds to every `users[]` entry (e.g. `workingHours`) and to every input
   * (e.g. `workingHoursExempt`), merged into those schemas by the registry.
   */
  readonly userFields?: Readonly<Record<string, z.ZodType>>;
  readonly inputFields?: Readonly<Record<string, z.ZodType>>;
  /** What the reserved inputs are, for the message when a configured input takes one (`MQTT command topic`). */
  readonly reservedFor?: string;
  /**
   * Checks on the raw block, run even when zod found other errors, so one run of check-config
   * shows every mistake (a second port speed next to a misspelt option). It must accept anything
   * where the config says nothing valid. {@link check} runs only on a config zod accepted.
   */
  checkRaw?(raw: Readonly<Record<string, unknown>>, report: ConfigReport): void;
  /** Puts the feature's part of a valid config in canonical form (after the core's normalisation). */
  normalise?(config: PresenceBridgeConfig): PresenceBridgeConfig;
  /** A section of the Homebridge form the feature's options go in (placed after Users). */
  readonly form?: FormSection;
  /** Rules checked beyond the option table, one or two sentences for docs/configuration.md. */
  readonly docRules?: string;
  /**
   * Whether this raw config gets users from the feature (Entra groups), so an empty `users` list
   * is fine. Without any such feature `users` must list at least one user.
   */
  suppliesUsers?(raw: Readonly<Record<string, unknown>>): boolean;
}

/**
 * Input templates (issue 19): an MQTT input whose topic holds `{user}` stands for one input per
 * user, named `<name>/<user key>`, bound to that user, `{user}` replaced by the key. Serial inputs
 * are not templates (one port is one desk). Pure.
 */
import type { InputConfig, PresenceBridgeConfig } from '../config/schema.js';

export const USER_PLACEHOLDER = '{user}';

export function isTemplate(input: { type?: unknown; topic?: unknown }): boolean {
  return input.type === 'mqtt' && typeof input.topic === 'string' && input.topic.includes(USER_PLACEHOLDER);
}

export interface Expansion {
  readonly inputs: InputConfig[];
  /** Per template: its name, how many inputs it made, and the first one. */
  readonly templates: readonly { readonly name: string; readonly count: number; readonly example?: InputConfig }[];
}

/** Every template replaced by one input per user in `userKeys`; other inputs as they are. */
export function expandInputs(inputs: readonly InputConfig[], userKeys: readonly string[]): Expansion {
  const out: InputConfig[] = [];
  const templates: { name: string; count: number; example?: InputConfig }[] = [];
  for (const input of inputs) {
    if (input.type !== 'mqtt' || !isTemplate(input)) {
      out.push(input);
      continue;
    }
    const made = userKeys.map((key): InputConfig => ({ ...input, name: `${input.name}/${key}`, user: key, topic: input.topic.split(USER_PLACEHOLDER).join(key) }));
    templates.push({ name: input.name, count: made.length, ...(made[0] ? { example: made[0] } : {}) });
    out.push(...made);
  }
  return { inputs: out, templates };
}

/** The config with its templates expanded for its own users. */
export function withExpandedInputs(config: PresenceBridgeConfig): PresenceBridgeConfig {
  if (!config.inputs.some(isTemplate)) return config;
  return { ...config, inputs: expandInputs(config.inputs, config.users.map((u) => u.key)).inputs };
}

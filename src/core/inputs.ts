import type { InputConfig, PresenceBridgeConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { errorMessage } from '../logger.js';
import type { InputMapping, ToggleState } from '../presence/mapping.js';
import { compileMapping, initialToggleState } from '../presence/mapping.js';

/** One configured input, compiled: whose it is, how its values map, its toggle position. */
export interface InputSlot {
  readonly config: InputConfig;
  readonly mapping: InputMapping;
  readonly userKey: string;
  toggle: ToggleState;
}

/** The user an input drives: the one it names, or the only one configured. */
export function userKeyOf(config: PresenceBridgeConfig, input: { user?: string | undefined }): string | undefined {
  if (input.user !== undefined) return config.users.some((u) => u.key === input.user) ? input.user : undefined;
  return config.users.length === 1 ? config.users[0]?.key : undefined;
}

/** Every configured input by name; one naming no user, or whose mapping does not compile, is logged and left out. */
export function compileInputs(config: PresenceBridgeConfig, logger: Logger): Map<string, InputSlot> {
  const inputs = new Map<string, InputSlot>();
  for (const input of config.inputs) {
    const userKey = userKeyOf(config, input);
    if (userKey === undefined) {
      logger.error(`input "${input.name}": no user "${input.user ?? ''}" (set "user" to one of the configured keys); input ignored`);
      continue;
    }
    try {
      const mapping = compileMapping({ name: input.name, field: input.field, map: input.map, toggle: input.toggle });
      inputs.set(input.name, { config: input, mapping, userKey, toggle: initialToggleState() });
    } catch (error) {
      logger.error(`input "${input.name}": ${errorMessage(error)}; input ignored`);
    }
  }
  return inputs;
}

/**
 * Whether an input's presence goes when its device vanishes: any input type that can vanish says
 * so with `onDisconnect` (`clear` or `keep`); one without the option keeps it.
 */
export function dropsOnDisconnect(input: InputConfig): boolean {
  return 'onDisconnect' in input && input.onDisconnect === 'clear';
}

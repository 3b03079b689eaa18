import type { MapEntry, PresenceBridgeConfig } from './schema.js';
import { checkPresenceText } from './presenceText.js';

/**
 * A valid config in canonical form: presences spelt as Graph does, the form's value list joined
 * into the map, `user` filled in when one user is configured. Features normalise their own parts
 * after this (e.g. serial template keys).
 */

function canonical(text: string, allow: { clear: boolean; toggle: boolean }): string {
  const checked = checkPresenceText(text, allow);
  return checked.ok ? checked.canonical : text;
}

export function normaliseCore(config: PresenceBridgeConfig): PresenceBridgeConfig {
  const only = config.users.length === 1 ? config.users[0]?.key : undefined;
  const both = { clear: true, toggle: true };
  const pairOnly = { clear: false, toggle: false };
  const inputs = config.inputs.map((input) => {
    const map: Record<string, MapEntry> = {};
    for (const [value, entry] of Object.entries(input.map)) {
      map[value] = typeof entry === 'string' ? canonical(entry, both) : { set: canonical(entry.set, pairOnly), for: entry.for.trim().toUpperCase() };
    }
    // The form's value list joins the map: the mapping reads one map.
    for (const entry of input.values ?? []) {
      map[entry.value] = entry.for === undefined ? canonical(entry.presence, both) : { set: canonical(entry.presence, pairOnly), for: entry.for.trim().toUpperCase() };
    }
    const next = { ...input, map, user: input.user ?? only };
    if (input.toggle) next.toggle = input.toggle.map((t) => canonical(t, pairOnly));
    return next;
  });
  const outputs = config.outputs.map((output) => ({ ...output, user: output.user ?? only }));
  return {
    ...config,
    graph: { ...config.graph, expiration: config.graph.expiration.trim().toUpperCase() },
    inputs,
    outputs,
    homekit: { ...config.homekit, switches: config.homekit.switches.map((s) => canonical(s, pairOnly)) },
  };
}

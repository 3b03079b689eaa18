import { formatPresence, parsePreferredPair, parseSessionPair, SESSION_PAIR_LIST } from '../presence/presencePair.js';

/** Presence texts in the config (map entries, toggle lists, switches): what setPresence accepts. */

const PRESENCE_HINT = `use one of ${SESSION_PAIR_LIST}`;

/** The canonical text of a map entry string, or an error message. */
export function checkPresenceText(
  text: string,
  allow: { clear: boolean; toggle: boolean },
): { ok: true; canonical: string } | { ok: false; message: string } {
  const trimmed = text.trim().toLowerCase();
  if (allow.clear && trimmed === 'clear') return { ok: true, canonical: 'clear' };
  if (allow.toggle && trimmed === 'toggle') return { ok: true, canonical: 'toggle' };
  const pair = parseSessionPair(text);
  if (pair) return { ok: true, canonical: formatPresence(pair) };
  const extras = [allow.clear ? 'clear' : '', allow.toggle ? 'toggle' : ''].filter(Boolean);
  const hint = `${PRESENCE_HINT}${extras.map((e) => `, or ${e}`).join('')}`;
  const preferred = parsePreferredPair(text);
  // Busy/Busy and friends exist, but only as the user's preferred presence, never in a session.
  const note = preferred ? ` (${formatPresence(preferred)} is only a preferred presence, set with presence-bridge prefer)` : '';
  return { ok: false, message: `${JSON.stringify(text)} is not a presence setPresence accepts; ${hint}${note}` };
}

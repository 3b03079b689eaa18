import { isRecord, list, type Path, type ProblemList } from './paths.js';
import { checkPresenceText } from './presenceText.js';
import { MAX_HOLD_MS, MAX_HOLD_TEXT, parseIsoDuration } from '../presence/duration.js';
import { normaliseValue } from '../presence/mapping.js';

/**
 * Checks of what every input and output has, whatever its type: unique names, names no feature
 * reserved, the user it drives, and an input's value map. Type-specific checks live with their
 * feature (src/mqtt/feature.ts, src/serial/feature.ts).
 */

/** Input names features deliver through `bridge.setIntent`, with what each is for (`HomeKit switches`). */
export type ReservedInputs = ReadonlyMap<string, string>;

export function checkEntries(raw: Record<string, unknown>, userKeys: readonly string[], reserved: ReservedInputs, report: ProblemList): void {
  const inputs = list(raw['inputs']);
  checkUniqueNames(inputs, 'inputs', report);
  inputs.forEach((input, i) => {
    if (!isRecord(input)) return;
    const path = ['inputs', i];
    const name = input['name'];
    const use = typeof name === 'string' ? reserved.get(name.trim().toLowerCase()) : undefined;
    if (use !== undefined) report.add([...path, 'name'], `${JSON.stringify(name)} is reserved for the bridge's own ${use}; pick another name`);
    checkUserRef(input, path, userKeys, report);
    checkMap(input, path, report);
  });
  const outputs = list(raw['outputs']);
  checkUniqueNames(outputs, 'outputs', report);
  outputs.forEach((output, i) => {
    if (isRecord(output)) checkUserRef(output, ['outputs', i], userKeys, report);
  });
}

/** An input template (`"topic": "desk/{user}/hook"`, src/fleet/inputTemplates.ts) stands for one input per user: it names no user. */
function isUserTemplate(entry: Record<string, unknown>): boolean {
  return entry['type'] === 'mqtt' && typeof entry['topic'] === 'string' && entry['topic'].includes('{user}');
}

function checkUserRef(entry: Record<string, unknown>, path: Path, userKeys: readonly string[], report: ProblemList): void {
  if (isUserTemplate(entry)) return;
  const user = entry['user'];
  if (user === undefined) {
    if (userKeys.length > 1) report.add([...path, 'user'], `is required when more than one user is configured; use one of ${userKeys.join(', ')}`);
    return;
  }
  if (typeof user === 'string' && userKeys.length > 0 && !userKeys.includes(user)) {
    report.add([...path, 'user'], `${JSON.stringify(user)} is not a configured user key; use one of ${userKeys.join(', ')}`);
  }
}

function checkUniqueNames(entries: unknown[], area: string, report: ProblemList): void {
  const seen = new Map<string, number>();
  entries.forEach((entry, i) => {
    if (!isRecord(entry) || typeof entry['name'] !== 'string') return;
    const name = entry['name'];
    const folded = name.trim().toLowerCase();
    const earlier = seen.get(folded);
    if (earlier !== undefined) report.add([area, i, 'name'], `${JSON.stringify(name)} is already the name of ${area}[${earlier}]; names must be unique`);
    else seen.set(folded, i);
  });
}

function checkMap(input: Record<string, unknown>, path: Path, report: ProblemList): void {
  const map = input['map'];
  const folded = new Map<string, string>();
  let usesToggle = checkValues(input, path, folded, report);
  if (map === undefined && !Array.isArray(input['values'])) {
    report.add([...path, 'values'], 'needs at least one value, e.g. [{"value": "ON", "presence": "Busy/InACall"}, {"value": "OFF", "presence": "clear"}] (or a map)');
  }
  if (isRecord(map)) {
    if (Object.keys(map).length === 0 && list(input['values']).length === 0) report.add([...path, 'map'], 'needs at least one value, e.g. {"ON": "Busy/InACall", "OFF": "clear"}');
    for (const [value, entry] of Object.entries(map)) {
      const entryPath = [...path, 'map', value];
      // The same folding as the mapping: case, spaces, and on/true/1, off/false/0 as one word.
      const key = normaliseValue(value);
      const other = folded.get(key);
      if (other !== undefined) {
        const why = key === 'on' || key === 'off' ? `on/true/1 and off/false/0 are one value each` : 'values match case-insensitively after trimming';
        report.add(entryPath, `is the same value as ${JSON.stringify(other)} (${why})`);
      }
      else folded.set(key, value);
      if (typeof entry === 'string') {
        const checked = checkPresenceText(entry, { clear: true, toggle: true });
        if (!checked.ok) report.add(entryPath, checked.message);
        else if (checked.canonical === 'toggle') usesToggle = true;
      } else if (isRecord(entry)) {
        const set = entry['set'];
        if (typeof set === 'string') {
          const checked = checkPresenceText(set, { clear: false, toggle: false });
          if (!checked.ok) report.add([...entryPath, 'set'], checked.message);
        }
        const duration = entry['for'];
        if (typeof duration === 'string') {
          const ms = parseIsoDuration(duration);
          if (ms === undefined) report.add([...entryPath, 'for'], `${JSON.stringify(duration)} is not an ISO 8601 duration; write e.g. PT30M or PT1H30M`);
          else if (ms <= 0) report.add([...entryPath, 'for'], 'must be longer than zero');
          else if (ms > MAX_HOLD_MS) report.add([...entryPath, 'for'], `${JSON.stringify(duration)} is longer than the ${MAX_HOLD_TEXT} limit (a timed presence holds at most a day)`);
        }
      }
    }
  }
  const toggle = input['toggle'];
  if (usesToggle && toggle === undefined) {
    report.add([...path, 'toggle'], 'is required because a map value is "toggle": list the presences it cycles through, e.g. ["Busy/InACall"]');
  }
  if (Array.isArray(toggle)) {
    if (usesToggle && toggle.length === 0) report.add([...path, 'toggle'], 'needs at least one presence to toggle to, e.g. ["Busy/InACall"]');
    const seen = new Set<string>();
    toggle.forEach((item, j) => {
      if (typeof item !== 'string') return;
      const checked = checkPresenceText(item, { clear: false, toggle: false });
      if (!checked.ok) report.add([...path, 'toggle', j], checked.message);
      else if (seen.has(checked.canonical)) report.add([...path, 'toggle', j], `${checked.canonical} is already in the list`);
      else seen.add(checked.canonical);
    });
  }
}

/**
 * The `values` list: the same rules as map entries, at their own paths. Fills `folded` (value →
 * how it was written) so a value given both here and in the map is reported once. Answers
 * whether a value toggles.
 */
function checkValues(input: Record<string, unknown>, path: Path, folded: Map<string, string>, report: ProblemList): boolean {
  const values = input['values'];
  let usesToggle = false;
  if (Array.isArray(values) && values.length === 0 && !(isRecord(input['map']) && Object.keys(input['map']).length > 0)) {
    report.add([...path, 'values'], 'needs at least one value, e.g. [{"value": "ON", "presence": "Busy/InACall"}]');
  }
  list(values).forEach((item, j) => {
    if (!isRecord(item)) return;
    const itemPath = [...path, 'values', j];
    const value = item['value'];
    if (typeof value === 'string' && value.trim() !== '') {
      const key = normaliseValue(value);
      const other = folded.get(key);
      if (other !== undefined) report.add([...itemPath, 'value'], `is the same value as ${JSON.stringify(other)} (values match case-insensitively after trimming; on/true/1 and off/false/0 are one value each)`);
      else folded.set(key, value);
    }
    const presence = item['presence'];
    if (typeof presence !== 'string') return;
    const checked = checkPresenceText(presence, { clear: true, toggle: true });
    if (!checked.ok) report.add([...itemPath, 'presence'], checked.message);
    else if (checked.canonical === 'toggle') usesToggle = true;
    const duration = item['for'];
    if (typeof duration !== 'string') return;
    if (checked.ok && (checked.canonical === 'clear' || checked.canonical === 'toggle')) {
      report.add([...itemPath, 'for'], `applies to a presence only, not to ${checked.canonical}`);
      return;
    }
    const ms = parseIsoDuration(duration);
    if (ms === undefined) report.add([...itemPath, 'for'], `${JSON.stringify(duration)} is not an ISO 8601 duration; write e.g. PT30M or PT1H30M`);
    else if (ms <= 0) report.add([...itemPath, 'for'], 'must be longer than zero');
  });
  return usesToggle;
}

import { z } from 'zod';
import { isTemplate } from '../fleet/inputTemplates.js';
import { configSchema, type PresenceBridgeConfig, type MapEntry } from './schema.js';
import { closest, knownKeysAt, unwrap } from './introspect.js';
import { formatPresence, parsePreferredPair, parseSessionPair, SESSION_PAIR_LIST } from '../presence/presencePair.js';
import { MAX_HOLD_MS, MAX_HOLD_TEXT, MAX_SESSION_EXPIRATION_MS, MIN_SESSION_EXPIRATION_MS, parseIsoDuration } from '../presence/duration.js';
import { normaliseValue } from '../presence/mapping.js';
import { cloudErrors } from './cloudChecks.js';

/**
 * Validation of the config block: zod's structural errors plus the cross-field checks the schema
 * alone cannot express, all reported at once as `path: message` lines (never stopping at the
 * first), so one run of check-config shows everything to fix. Messages never repeat the value
 * of a secret (client secret, MQTT password, passwords inside URLs).
 */

export type ValidationResult = { ok: true; config: PresenceBridgeConfig } | { ok: false; errors: string[] };

type Path = readonly PropertyKey[];

/** Homebridge also accepts the plugin-qualified platform name. */
export const QUALIFIED_PLATFORM = 'homebridge-presence-bridge.PresenceBridge';

/** Input names the bridge uses for its own signals (MQTT command topic, HomeKit switches). */
export const RESERVED_INPUT_NAMES = ['mqtt-command', 'homekit'] as const;

/** Availabilities a serial output template may be keyed by (Graph's read-back values). */
export const TEMPLATE_KEYS = [
  'Available',
  'AvailableIdle',
  'Away',
  'BeRightBack',
  'Busy',
  'BusyIdle',
  'DoNotDisturb',
  'Offline',
  'PresenceUnknown',
  'default',
] as const;

const MQTT_SCHEMES = ['mqtt:', 'mqtts:', 'ws:', 'wss:'];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UNSAFE_ID = /[/?#%\\\s]/;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `inputs[1].map.OFFHOOK`; keys that are not plain words are quoted: `map["state.hook"]`. */
export function formatPath(path: Path): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      const key = String(segment);
      if (IDENTIFIER.test(key)) out += out === '' ? key : `.${key}`;
      else out += `[${JSON.stringify(key)}]`;
    }
  }
  return out === '' ? '(config)' : out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'text';
  return `a ${typeof value}`;
}

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

class Report {
  readonly errors: { path: Path; message: string }[] = [];
  add(path: Path, message: string): void {
    this.errors.push({ path, message });
  }
}

// ---------------------------------------------------------------------------------------------
// zod issues to messages

function zodIssues(issues: readonly z.core.$ZodIssue[], raw: unknown, base: Path, report: Report): void {
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = knownKeysAt(configSchema, path, raw) ?? [];
        for (const key of issue.keys) {
          const guess = closest(key, known);
          report.add([...path, key], `unknown option ${JSON.stringify(key)}${guess ? `; did you mean ${JSON.stringify(guess)}?` : ''}`);
        }
        break;
      }
      case 'invalid_type': {
        const value = valueAt(raw, path);
        if (value === undefined) report.add(path, 'is required');
        else {
          const expected = issue.expected === 'int' ? 'a whole number' : issue.expected === 'array' ? 'a list' : issue.expected === 'object' ? 'an object' : issue.expected === 'string' ? 'text' : `a ${issue.expected}`;
          report.add(path, `must be ${expected}, not ${describeType(value)}`);
        }
        break;
      }
      case 'invalid_value':
        report.add(path, `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`);
        break;
      case 'invalid_union': {
        const value = valueAt(raw, path);
        if ('discriminator' in issue && issue.discriminator !== undefined) {
          const options = (issue as { options?: unknown[] }).options ?? [];
          if (value === undefined) report.add(path, `is required: one of ${options.map((o) => JSON.stringify(o)).join(', ')}`);
          else report.add(path, `must be one of ${options.map((o) => JSON.stringify(o)).join(', ')}`);
          break;
        }
        // A map entry: text, or {set, for}. When an object was given, its own errors say more.
        if (isRecord(value)) {
          const objectBranch = issue.errors.find((branch) => !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0));
          if (objectBranch) {
            zodIssues(objectBranch, raw, path, report);
            break;
          }
        }
        report.add(path, `must be a presence (e.g. "Busy/InACall"), "clear", "toggle" or {"set": presence, "for": duration}, not ${describeType(value)}`);
        break;
      }
      case 'too_small': {
        if (issue.origin === 'string') report.add(path, 'must not be empty');
        else if (issue.origin === 'array') report.add(path, `needs at least ${String(issue.minimum)} ${Number(issue.minimum) === 1 ? 'entry' : 'entries'}`);
        else report.add(path, `must be ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}`);
        break;
      }
      case 'too_big':
        report.add(path, `must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}`);
        break;
      default:
        // invalid_format and custom refinements carry the schema's own message.
        report.add(path, issue.message);
    }
  }
}

function valueAt(raw: unknown, path: Path): unknown {
  let value = raw;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// cross-field checks, on the raw input so they run even when zod found other errors

function checkHttpsUrl(value: unknown, path: Path, report: Report): void {
  if (typeof value !== 'string') return;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    report.add(path, 'is not a URL; write it like https://login.example.com');
    return;
  }
  if (url.protocol !== 'https:') report.add(path, `must be an https:// URL, not ${url.protocol}//`);
  else if (url.username || url.password) report.add(path, 'must not carry a user name or password');
  else if (url.search || url.hash) report.add(path, 'must not carry a query or fragment');
}

function checkUsers(raw: Record<string, unknown>, report: Report): string[] {
  const keys: string[] = [];
  const seenKeys = new Map<string, number>();
  const seenIds = new Map<string, number>();
  list(raw['users']).forEach((user, i) => {
    if (!isRecord(user)) return;
    const key = user['key'];
    if (typeof key === 'string') {
      if (!keys.includes(key)) keys.push(key);
      const earlier = seenKeys.get(key.toLowerCase());
      if (earlier !== undefined) report.add(['users', i, 'key'], `${JSON.stringify(key)} is already the key of users[${earlier}]; keys must be unique`);
      else seenKeys.set(key.toLowerCase(), i);
    }
    const id = user['id'];
    if (typeof id === 'string' && id !== '') {
      const message = userIdProblem(id);
      if (message) report.add(['users', i, 'id'], message);
      else {
        const earlier = seenIds.get(id.toLowerCase());
        if (earlier !== undefined) report.add(['users', i, 'id'], `is already the id of users[${earlier}]; one user needs one entry (one presence session)`);
        else seenIds.set(id.toLowerCase(), i);
      }
    }
  });
  return keys;
}

/** Why a user id cannot go into `/users/{id}/presence`, or undefined when it can. */
export function userIdProblem(id: string): string | undefined {
  if (GUID.test(id)) return undefined;
  if (UNSAFE_ID.test(id) || id.includes('..')) {
    return `${JSON.stringify(id)} must be an object id (GUID) or a user principal name (name@domain); it must not contain /, ?, #, %, \\, spaces or ..`;
  }
  const at = id.indexOf('@');
  if (at <= 0 || at === id.length - 1 || id.indexOf('@', at + 1) >= 0) {
    return `${JSON.stringify(id)} is neither an object id (GUID, e.g. fa8bf3dc-eca7-46b7-bad1-db199b62afc3) nor a user principal name (name@domain)`;
  }
  return undefined;
}

function checkUserRef(entry: Record<string, unknown>, path: Path, userKeys: readonly string[], report: Report): void {
  // an input template (`desk/{user}/hook`) stands for one input per user (src/fleet/inputTemplates.ts)
  if (isTemplate(entry)) return;
  const user = entry['user'];
  if (user === undefined) {
    if (userKeys.length > 1) report.add([...path, 'user'], `is required when more than one user is configured; use one of ${userKeys.join(', ')}`);
    return;
  }
  if (typeof user === 'string' && userKeys.length > 0 && !userKeys.includes(user)) {
    report.add([...path, 'user'], `${JSON.stringify(user)} is not a configured user key; use one of ${userKeys.join(', ')}`);
  }
}

function checkUniqueNames(entries: unknown[], area: string, report: Report): void {
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

function checkMap(input: Record<string, unknown>, path: Path, report: Report): void {
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
function checkValues(input: Record<string, unknown>, path: Path, folded: Map<string, string>, report: Report): boolean {
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

/** MQTT subscription filter rules (MQTT 5 §4.7): + and # fill a whole level, # only last. */
export function topicFilterProblem(topic: string): string | undefined {
  if (topic.includes('\u0000')) return 'must not contain a NUL character';
  const levels = topic.split('/');
  for (const [i, level] of levels.entries()) {
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return 'may use # only as the whole last level, e.g. sensors/#';
    if (level.includes('+') && level !== '+') return 'may use + only as a whole level, e.g. sensors/+/state';
  }
  return undefined;
}

function checkInputs(raw: Record<string, unknown>, userKeys: readonly string[], report: Report): void {
  const inputs = list(raw['inputs']);
  checkUniqueNames(inputs, 'inputs', report);
  let usesMqtt = false;
  const ports = new Map<string, { index: number; area: string; baudRate: number; delimiter: unknown; encoding: unknown }>();
  const serialEntries: { area: string; index: number; entry: Record<string, unknown> }[] = [];
  inputs.forEach((input, i) => {
    if (!isRecord(input)) return;
    const path = ['inputs', i];
    const name = input['name'];
    if (typeof name === 'string' && (RESERVED_INPUT_NAMES as readonly string[]).includes(name.trim().toLowerCase())) {
      report.add([...path, 'name'], `${JSON.stringify(name)} is reserved for the bridge's own ${name.trim().toLowerCase() === 'homekit' ? 'HomeKit switches' : 'MQTT command topic'}; pick another name`);
    }
    checkUserRef(input, path, userKeys, report);
    checkMap(input, path, report);
    if (input['type'] === 'mqtt') {
      usesMqtt = true;
      const topic = input['topic'];
      if (typeof topic === 'string' && topic !== '') {
        const problem = topicFilterProblem(topic);
        if (problem) report.add([...path, 'topic'], problem);
      }
    }
    if (input['type'] === 'serial') serialEntries.push({ area: 'inputs', index: i, entry: input });
  });
  list(raw['outputs']).forEach((output, i) => {
    if (isRecord(output) && output['type'] === 'serial') serialEntries.push({ area: 'outputs', index: i, entry: output });
  });
  // One port is opened once, so everything on it must agree on how to speak to it.
  for (const { area, index, entry } of serialEntries) {
    const path = entry['path'];
    if (typeof path !== 'string' || path === '') continue;
    const baudRate = typeof entry['baudRate'] === 'number' ? entry['baudRate'] : 9600;
    const first = ports.get(path);
    if (!first) {
      ports.set(path, { index, area, baudRate, delimiter: entry['delimiter'] ?? '\n', encoding: entry['encoding'] ?? 'utf8' });
      continue;
    }
    if (first.baudRate !== baudRate) {
      report.add([area, index, 'baudRate'], `${baudRate} differs from ${first.area}[${first.index}] (${first.baudRate}) on the same port ${path}; one port has one speed`);
    }
    if (area === 'inputs' && first.area === 'inputs') {
      if ((entry['delimiter'] ?? '\n') !== first.delimiter) report.add([area, index, 'delimiter'], `differs from inputs[${first.index}] on the same port ${path}; lines are cut once per port`);
      if ((entry['encoding'] ?? 'utf8') !== first.encoding) report.add([area, index, 'encoding'], `differs from inputs[${first.index}] on the same port ${path}`);
    }
  }
  if (usesMqtt && raw['mqtt'] === undefined) {
    report.add(['mqtt'], 'is required because an input has type "mqtt": give at least {"url": "mqtt://host:1883"}');
  }
}

function checkOutputs(raw: Record<string, unknown>, userKeys: readonly string[], report: Report): void {
  const outputs = list(raw['outputs']);
  checkUniqueNames(outputs, 'outputs', report);
  outputs.forEach((output, i) => {
    if (!isRecord(output)) return;
    checkUserRef(output, ['outputs', i], userKeys, report);
    const templates = output['templates'];
    if (isRecord(templates)) {
      for (const key of Object.keys(templates)) {
        if (!TEMPLATE_KEYS.some((k) => k.toLowerCase() === key.toLowerCase())) {
          report.add(['outputs', i, 'templates', key], `is not an availability; use ${TEMPLATE_KEYS.join(', ')}`);
        }
      }
    }
  });
}

function checkAuth(raw: Record<string, unknown>, report: Report): void {
  const auth = raw['auth'];
  if (!isRecord(auth)) return;
  const mode = auth['mode'] ?? 'application';
  if (mode === 'application') {
    const hasSecret = auth['clientSecret'] !== undefined;
    const hasCertificate = auth['certificate'] !== undefined;
    if (!hasSecret && !hasCertificate) report.add(['auth', 'clientSecret'], 'is required in application mode (or give auth.certificate instead)');
    if (hasSecret && hasCertificate) report.add(['auth', 'certificate'], 'give either clientSecret or certificate, not both');
  }
  if (auth['authorityHost'] !== undefined) checkHttpsUrl(auth['authorityHost'], ['auth', 'authorityHost'], report);
  for (const key of ['tenantId', 'clientId'] as const) {
    const value = auth[key];
    if (typeof value === 'string' && value !== '' && (UNSAFE_ID.test(value) || value.includes('..'))) {
      report.add(['auth', key], 'must not contain /, ?, #, %, \\, spaces or .. (it becomes part of a URL)');
    }
  }
}

function checkGraph(raw: Record<string, unknown>, report: Report): void {
  const graph = raw['graph'];
  if (!isRecord(graph)) return;
  if (graph['baseUrl'] !== undefined) checkHttpsUrl(graph['baseUrl'], ['graph', 'baseUrl'], report);
  const expiration = graph['expiration'];
  if (typeof expiration === 'string') {
    const ms = parseIsoDuration(expiration);
    if (ms === undefined) report.add(['graph', 'expiration'], `${JSON.stringify(expiration)} is not an ISO 8601 duration; write e.g. PT1H`);
    else if (ms < MIN_SESSION_EXPIRATION_MS || ms > MAX_SESSION_EXPIRATION_MS) {
      report.add(['graph', 'expiration'], `${JSON.stringify(expiration)} is outside what setPresence accepts: PT5M to PT4H`);
    }
  }
}

function checkMqtt(raw: Record<string, unknown>, report: Report): void {
  const mqtt = raw['mqtt'];
  if (!isRecord(mqtt) || typeof mqtt['url'] !== 'string' || mqtt['url'] === '') return;
  let url: URL;
  try {
    url = new URL(mqtt['url']);
  } catch {
    // The URL may carry a password: never repeat it.
    report.add(['mqtt', 'url'], 'is not a URL; write it like mqtt://192.168.1.10:1883');
    return;
  }
  if (!MQTT_SCHEMES.includes(url.protocol)) report.add(['mqtt', 'url'], `must start with mqtt://, mqtts://, ws:// or wss://, not ${url.protocol}//`);
}

function checkProxy(raw: Record<string, unknown>, report: Report): void {
  const proxy = raw['proxy'];
  if (typeof proxy !== 'string') return;
  try {
    const url = new URL(proxy);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') report.add(['proxy'], `must be an http:// or https:// URL, not ${url.protocol}//`);
  } catch {
    report.add(['proxy'], 'is not a URL; write it like http://proxy.example.com:3128');
  }
}

function checkHomekit(raw: Record<string, unknown>, report: Report): void {
  const homekit = raw['homekit'];
  if (!isRecord(homekit)) return;
  const seen = new Set<string>();
  list(homekit['switches']).forEach((item, i) => {
    if (typeof item !== 'string') return;
    const checked = checkPresenceText(item, { clear: false, toggle: false });
    if (!checked.ok) report.add(['homekit', 'switches', i], checked.message);
    else if (seen.has(checked.canonical)) report.add(['homekit', 'switches', i], `${checked.canonical} is already a switch`);
    else seen.add(checked.canonical);
  });
  const sensors = new Set<unknown>();
  list(homekit['statusSensors']).forEach((item, i) => {
    if (sensors.has(item)) report.add(['homekit', 'statusSensors', i], `${JSON.stringify(item)} is already a status sensor`);
    sensors.add(item);
  });
}

// ---------------------------------------------------------------------------------------------
// normalisation of a valid config

function canonical(text: string, allow: { clear: boolean; toggle: boolean }): string {
  const checked = checkPresenceText(text, allow);
  return checked.ok ? checked.canonical : text;
}

function normalise(config: PresenceBridgeConfig): PresenceBridgeConfig {
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
  const outputs = config.outputs.map((output) => {
    const templates: Record<string, string> = {};
    for (const [key, line] of Object.entries(output.templates)) {
      templates[TEMPLATE_KEYS.find((k) => k.toLowerCase() === key.toLowerCase()) ?? key] = line;
    }
    return { ...output, templates, user: output.user ?? only };
  });
  return {
    ...config,
    graph: { ...config.graph, expiration: config.graph.expiration.trim().toUpperCase() },
    inputs,
    outputs,
    homekit: { ...config.homekit, switches: config.homekit.switches.map((s) => canonical(s, pairOnly)) },
  };
}

// ---------------------------------------------------------------------------------------------

/** Sort key of a path in the order the options appear in the file (missing ones after). */
function documentRank(raw: unknown, path: Path): number[] {
  const rank: number[] = [];
  let value: unknown = raw;
  let schemaKeys: readonly string[] = Object.keys(configSchema.shape);
  for (const segment of path) {
    if (typeof segment === 'number') rank.push(segment);
    else {
      const present = isRecord(value) ? Object.keys(value).indexOf(String(segment)) : -1;
      rank.push(present >= 0 ? present : 10_000 + Math.max(0, schemaKeys.indexOf(String(segment))));
    }
    value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[segment] : undefined;
    schemaKeys = [];
  }
  return rank;
}

function compareRanks(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

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

export function validateConfig(raw: unknown): ValidationResult {
  if (!isRecord(raw)) return { ok: false, errors: [`(config): must be a JSON object, not ${describeType(raw)}`] };
  const named = raw['platform'] === QUALIFIED_PLATFORM ? { ...raw, platform: 'PresenceBridge' } : raw;
  const input = dropEmptyOptionals(configSchema, named) as Record<string, unknown>;
  const report = new Report();
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) zodIssues(parsed.error.issues, input, [], report);
  const userKeys = checkUsers(input, report);
  // users may be empty when userGroups names a group (issue 19)
  if (list(input['users']).length === 0 && list(input['userGroups']).length === 0) report.add(['users'], 'must list at least one user (or name a group in userGroups)');
  checkAuth(input, report);
  checkGraph(input, report);
  checkProxy(input, report);
  checkMqtt(input, report);
  checkInputs(input, userKeys, report);
  checkOutputs(input, userKeys, report);
  checkHomekit(input, report);
  for (const problem of cloudErrors(input)) report.add([...problem.path], problem.message);
  if (report.errors.length > 0 || !parsed.success) {
    // In the order the options appear in the file, so the list reads top to bottom.
    const ranked = report.errors.map((e) => ({ ...e, rank: documentRank(input, e.path) }));
    const sorted = ranked.sort((a, b) => compareRanks(a.rank, b.rank));
    const lines = sorted.map((e) => `${formatPath(e.path)}: ${e.message}`);
    return { ok: false, errors: [...new Set(lines)] };
  }
  return { ok: true, config: normalise(parsed.data) };
}

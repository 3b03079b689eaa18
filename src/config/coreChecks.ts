import { cloudErrors } from './cloudChecks.js';
import { isRecord, list, type Path, type ProblemList } from './paths.js';
import { checkPresenceText } from './presenceText.js';
import { MAX_SESSION_EXPIRATION_MS, MIN_SESSION_EXPIRATION_MS, parseIsoDuration } from '../presence/duration.js';

/**
 * Cross-field checks of the core options (users, sign-in, Graph, proxy, HomeKit), on the raw
 * block so they run even when zod found other errors. Messages never repeat a secret.
 */

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UNSAFE_ID = /[/?#%\\\s]/;

/** Runs every core check; answers the configured user keys (inputs and outputs refer to them). */
export function checkCore(raw: Record<string, unknown>, report: ProblemList): string[] {
  const userKeys = checkUsers(raw, report);
  checkAuth(raw, report);
  checkGraph(raw, report);
  checkProxy(raw, report);
  checkHomekit(raw, report);
  for (const problem of cloudErrors(raw)) report.add([...problem.path], problem.message);
  return userKeys;
}

function checkHttpsUrl(value: unknown, path: Path, report: ProblemList): void {
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

function checkUsers(raw: Record<string, unknown>, report: ProblemList): string[] {
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

function checkAuth(raw: Record<string, unknown>, report: ProblemList): void {
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

function checkGraph(raw: Record<string, unknown>, report: ProblemList): void {
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

function checkProxy(raw: Record<string, unknown>, report: ProblemList): void {
  const proxy = raw['proxy'];
  if (typeof proxy !== 'string') return;
  try {
    const url = new URL(proxy);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') report.add(['proxy'], `must be an http:// or https:// URL, not ${url.protocol}//`);
  } catch {
    report.add(['proxy'], 'is not a URL; write it like http://proxy.example.com:3128');
  }
}

function checkHomekit(raw: Record<string, unknown>, report: ProblemList): void {
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

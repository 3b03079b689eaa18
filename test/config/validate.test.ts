import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatPath, topicFilterProblem, userIdProblem, validateConfig } from '../../src/config/validate.js';

const GUID = 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3';
const SECRET = 'fixture-secret-value-not-real';
const PAIRS = 'Available/Available, Busy/InACall, Busy/InAConferenceCall, Away/Away, DoNotDisturb/Presenting';

type Json = Record<string, unknown>;

/** The smallest valid config; each case below breaks or varies one thing. */
function base(): Json {
  return {
    platform: 'PresenceBridge',
    auth: { tenantId: 'tenant-1', clientId: 'client-1', clientSecret: SECRET },
    users: [{ key: 'alex', id: GUID }],
    mqtt: { url: 'mqtt://127.0.0.1:1883' },
    inputs: [
      { name: 'Desk button', type: 'mqtt', topic: 'z2m/desk', field: 'action', map: { single: 'toggle', hold: 'DoNotDisturb/Presenting' }, toggle: ['Busy/InACall'] },
      { name: 'Headset', type: 'serial', path: '/dev/ttyUSB0', map: { OFFHOOK: 'Busy/InACall', ONHOOK: 'clear' } },
    ],
  };
}

function twoUsers(c: Json): void {
  c['users'] = [
    { key: 'alex', id: GUID },
    { key: 'megan', id: 'megan@contoso.example' },
  ];
}

const input = (c: Json, i: number): Json => (c['inputs'] as Json[])[i]!;

interface Case {
  readonly name: string;
  readonly change: (c: Json) => void;
  readonly errors: readonly string[];
}

const cases: readonly Case[] = [
  // structure (zod), with our wording
  { name: 'unknown top-level option names the key and a guess', change: (c) => (c['graf'] = {}), errors: ['graf: unknown option "graf"; did you mean "graph"?'] },
  { name: 'unknown option inside auth', change: (c) => ((c['auth'] as Json)['tenantID'] = 'x'), errors: ['auth.tenantID: unknown option "tenantID"; did you mean "tenantId"?'] },
  { name: 'unknown option inside a serial input', change: (c) => (input(c, 1)['baud'] = 9600), errors: ['inputs[1].baud: unknown option "baud"'] },
  { name: 'unknown option in a {set, for} entry', change: (c) => ((input(c, 1)['map'] as Json)['OFFHOOK'] = { set: 'Busy/InACall', for: 'PT1M', fro: 1 }), errors: ['inputs[1].map.OFFHOOK.fro: unknown option "fro"; did you mean "for"?'] },
  { name: 'missing required option', change: (c) => delete (c['auth'] as Json)['tenantId'], errors: ['auth.tenantId: is required'] },
  { name: 'missing auth', change: (c) => delete c['auth'], errors: ['auth: is required'] },
  { name: 'wrong type', change: (c) => ((c['graph'] = { pollSeconds: '60' })), errors: ['graph.pollSeconds: must be a number, not text'] },
  { name: 'not a whole number', change: (c) => (input(c, 1)['baudRate'] = 96.5), errors: ['inputs[1].baudRate: must be a whole number, not a number'] },
  { name: 'bad enum', change: (c) => (c['cloud'] = 'europe'), errors: ['cloud: must be one of "global", "usgov", "dod", "china"'] },
  { name: 'bad input type', change: (c) => (input(c, 0)['type'] = 'zigbee'), errors: ['inputs[0].type: must be one of "mqtt", "serial"'] },
  { name: 'missing input type', change: (c) => delete input(c, 0)['type'], errors: ['inputs[0].type: is required: one of "mqtt", "serial"'] },
  {
    name: 'neither values nor map',
    change: (c) => delete input(c, 1)['map'],
    errors: ['inputs[1].values: needs at least one value, e.g. [{"value": "ON", "presence": "Busy/InACall"}, {"value": "OFF", "presence": "clear"}] (or a map)'],
  },
  {
    name: 'a value list entry with a wrong presence, a duration on clear, and a value the map has too',
    change: (c) =>
      (input(c, 1)['values'] = [
        { value: 'MUTE', presence: 'Busy/Lunch' },
        { value: 'IDLE', presence: 'clear', for: 'PT5M' },
        { value: ' offhook ', presence: 'Away/Away' },
      ]),
    errors: [
      // In file order: the map comes before the list in this input.
      'inputs[1].map.OFFHOOK: is the same value as " offhook " (values match case-insensitively after trimming)',
      'inputs[1].values[0].presence: "Busy/Lunch" is not a presence setPresence accepts; use one of Available/Available, Busy/InACall, Busy/InAConferenceCall, Away/Away, DoNotDisturb/Presenting, or clear, or toggle',
      'inputs[1].values[1].for: applies to a presence only, not to clear',
    ],
  },
  { name: 'wrong platform', change: (c) => (c['platform'] = 'Presence'), errors: ['platform: must be one of "PresenceBridge"'] },
  { name: 'no users', change: (c) => (c['users'] = []), errors: ['users: must list at least one user (or name a group in userGroups)'] },
  { name: 'empty name', change: (c) => (input(c, 0)['name'] = ''), errors: ['inputs[0].name: must not be empty'] },
  { name: 'bad user key characters', change: (c) => ((c['users'] as Json[])[0]!['key'] = 'al ex'), errors: ['users[0].key: use letters, digits, _ and - only (it becomes part of MQTT topics)'] },
  { name: 'map entry of the wrong type', change: (c) => ((input(c, 1)['map'] as Json)['ONHOOK'] = 3), errors: ['inputs[1].map.ONHOOK: must be a presence (e.g. "Busy/InACall"), "clear", "toggle" or {"set": presence, "for": duration}, not a number'] },
  { name: 'map key that is not a word is quoted', change: (c) => ((input(c, 1)['map'] as Json)['state.hook'] = 'Busy/Lunch'), errors: [`inputs[1].map["state.hook"]: "Busy/Lunch" is not a presence setPresence accepts; use one of ${PAIRS}, or clear, or toggle`] },

  // presence strings
  { name: 'presence that setPresence refuses', change: (c) => ((input(c, 1)['map'] as Json)['OFFHOOK'] = 'Busy/Lunch'), errors: [`inputs[1].map.OFFHOOK: "Busy/Lunch" is not a presence setPresence accepts; use one of ${PAIRS}, or clear, or toggle`] },
  { name: 'preferred-only pair in a map', change: (c) => ((input(c, 1)['map'] as Json)['OFFHOOK'] = 'Busy/Busy'), errors: [`inputs[1].map.OFFHOOK: "Busy/Busy" is not a presence setPresence accepts; use one of ${PAIRS}, or clear, or toggle (Busy/Busy is only a preferred presence, set with presence-bridge prefer)`] },
  { name: 'set of a {set, for} entry must be a pair, not clear', change: (c) => ((input(c, 1)['map'] as Json)['OFFHOOK'] = { set: 'clear', for: 'PT5M' }), errors: [`inputs[1].map.OFFHOOK.set: "clear" is not a presence setPresence accepts; use one of ${PAIRS}`] },
  { name: 'for must be an ISO duration', change: (c) => ((input(c, 1)['map'] as Json)['OFFHOOK'] = { set: 'Busy/InACall', for: '30 minutes' }), errors: ['inputs[1].map.OFFHOOK.for: "30 minutes" is not an ISO 8601 duration; write e.g. PT30M or PT1H30M'] },
  { name: 'for must be longer than zero', change: (c) => ((input(c, 1)['map'] as Json)['OFFHOOK'] = { set: 'Busy/InACall', for: 'PT0S' }), errors: ['inputs[1].map.OFFHOOK.for: must be longer than zero'] },
  { name: 'for is at most a day', change: (c) => ((input(c, 1)['map'] as Json)['OFFHOOK'] = { set: 'Busy/InACall', for: 'P30D' }), errors: ['inputs[1].map.OFFHOOK.for: "P30D" is longer than the P1D limit (a timed presence holds at most a day)'] },
  { name: 'for is required', change: (c) => ((input(c, 1)['map'] as Json)['OFFHOOK'] = { set: 'Busy/InACall' }), errors: ['inputs[1].map.OFFHOOK.for: is required'] },
  { name: 'values equal after trim and case fold', change: (c) => ((input(c, 1)['map'] as Json)[' onhook '] = 'clear'), errors: ['inputs[1].map[" onhook "]: is the same value as "ONHOOK" (values match case-insensitively after trimming)'] },
  { name: 'on and 1 are one value', change: (c) => (input(c, 1)['map'] = { on: 'Busy/InACall', 1: 'Busy/InAConferenceCall', off: 'clear' }), errors: ['inputs[1].map.on: is the same value as "1" (on/true/1 and off/false/0 are one value each)'] },
  { name: 'False and off are one value', change: (c) => (input(c, 1)['map'] = { off: 'clear', False: 'clear' }), errors: ['inputs[1].map.False: is the same value as "off" (on/true/1 and off/false/0 are one value each)'] },
  { name: 'empty map', change: (c) => (input(c, 1)['map'] = {}), errors: ['inputs[1].map: needs at least one value, e.g. {"ON": "Busy/InACall", "OFF": "clear"}'] },

  // toggle
  { name: 'toggle used without a toggle list', change: (c) => delete input(c, 0)['toggle'], errors: ['inputs[0].toggle: is required because a map value is "toggle": list the presences it cycles through, e.g. ["Busy/InACall"]'] },
  { name: 'toggle list empty while toggle is used', change: (c) => (input(c, 0)['toggle'] = []), errors: ['inputs[0].toggle: needs at least one presence to toggle to, e.g. ["Busy/InACall"]'] },
  { name: 'toggle list with a bad pair', change: (c) => (input(c, 0)['toggle'] = ['Busy/InACall', 'Away/Lunch']), errors: [`inputs[0].toggle[1]: "Away/Lunch" is not a presence setPresence accepts; use one of ${PAIRS}`] },
  { name: 'toggle list may not hold clear', change: (c) => (input(c, 0)['toggle'] = ['clear']), errors: [`inputs[0].toggle[0]: "clear" is not a presence setPresence accepts; use one of ${PAIRS}`] },
  { name: 'toggle list with a repeat', change: (c) => (input(c, 0)['toggle'] = ['Busy/InACall', 'busy/inacall']), errors: ['inputs[0].toggle[1]: Busy/InACall is already in the list'] },

  // users
  { name: 'duplicate user key', change: (c) => (c['users'] = [{ key: 'alex', id: GUID }, { key: 'alex', id: 'a@b.example' }]), errors: ['users[1].key: "alex" is already the key of users[0]; keys must be unique'] },
  { name: 'duplicate user id', change: (c) => (c['users'] = [{ key: 'alex', id: GUID }, { key: 'a2', id: GUID.toUpperCase() }]), errors: ['users[1].id: is already the id of users[0]; one user needs one entry (one presence session)', 'inputs[0].user: is required when more than one user is configured; use one of alex, a2', 'inputs[1].user: is required when more than one user is configured; use one of alex, a2'] },
  { name: 'user id that climbs the path', change: (c) => ((c['users'] as Json[])[0]!['id'] = '../me'), errors: ['users[0].id: "../me" must be an object id (GUID) or a user principal name (name@domain); it must not contain /, ?, #, %, \\, spaces or ..'] },
  { name: 'user id with a query', change: (c) => ((c['users'] as Json[])[0]!['id'] = 'a@b.example?x=1'), errors: ['users[0].id: "a@b.example?x=1" must be an object id (GUID) or a user principal name (name@domain); it must not contain /, ?, #, %, \\, spaces or ..'] },
  { name: 'user id with a percent escape', change: (c) => ((c['users'] as Json[])[0]!['id'] = 'a%2F@b.example'), errors: ['users[0].id: "a%2F@b.example" must be an object id (GUID) or a user principal name (name@domain); it must not contain /, ?, #, %, \\, spaces or ..'] },
  { name: 'user id neither GUID nor UPN', change: (c) => ((c['users'] as Json[])[0]!['id'] = 'alex'), errors: ['users[0].id: "alex" is neither an object id (GUID, e.g. fa8bf3dc-eca7-46b7-bad1-db199b62afc3) nor a user principal name (name@domain)'] },
  { name: 'input names an unknown user', change: (c) => (input(c, 1)['user'] = 'sam'), errors: ['inputs[1].user: "sam" is not a configured user key; use one of alex'] },
  { name: 'user omitted with two users', change: (c) => { twoUsers(c); input(c, 0)['user'] = 'alex'; }, errors: ['inputs[1].user: is required when more than one user is configured; use one of alex, megan'] },
  { name: 'output names an unknown user', change: (c) => (c['outputs'] = [{ type: 'serial', name: 'Light', path: '/dev/ttyUSB1', user: 'sam', templates: { Busy: 'RED\n' } }]), errors: ['outputs[0].user: "sam" is not a configured user key; use one of alex'] },

  // names
  { name: 'duplicate input name (case-insensitive)', change: (c) => (input(c, 1)['name'] = 'desk button'), errors: ['inputs[1].name: "desk button" is already the name of inputs[0]; names must be unique'] },
  { name: 'reserved input name', change: (c) => (input(c, 1)['name'] = 'homekit'), errors: ['inputs[1].name: "homekit" is reserved for the bridge\'s own HomeKit switches; pick another name'] },
  {
    name: 'duplicate output name',
    change: (c) => (c['outputs'] = [0, 1].map((i) => ({ type: 'serial', name: 'Light', path: `/dev/ttyUSB${i + 5}`, templates: { Busy: 'RED\n' } }))),
    errors: ['outputs[1].name: "Light" is already the name of outputs[0]; names must be unique'],
  },
  { name: 'template key that is no availability', change: (c) => (c['outputs'] = [{ type: 'serial', name: 'Light', path: '/dev/ttyUSB5', templates: { Bussy: 'RED\n' } }]), errors: ['outputs[0].templates.Bussy: is not an availability; use Available, AvailableIdle, Away, BeRightBack, Busy, BusyIdle, DoNotDisturb, Offline, PresenceUnknown, default'] },

  // graph, auth, urls
  { name: 'expiration too long', change: (c) => (c['graph'] = { expiration: 'PT4H1M' }), errors: ['graph.expiration: "PT4H1M" is outside what setPresence accepts: PT5M to PT4H'] },
  { name: 'expiration too short', change: (c) => (c['graph'] = { expiration: 'PT4M59S' }), errors: ['graph.expiration: "PT4M59S" is outside what setPresence accepts: PT5M to PT4H'] },
  { name: 'expiration not a duration', change: (c) => (c['graph'] = { expiration: '1h' }), errors: ['graph.expiration: "1h" is not an ISO 8601 duration; write e.g. PT1H'] },
  { name: 'graph base URL over http', change: (c) => (c['graph'] = { baseUrl: 'http://127.0.0.1:8443' }), errors: ['graph.baseUrl: must be an https:// URL, not http://'] },
  { name: 'graph base URL not a URL', change: (c) => (c['graph'] = { baseUrl: 'graph.local' }), errors: ['graph.baseUrl: is not a URL; write it like https://login.example.com'] },
  { name: 'authority host with credentials', change: (c) => ((c['auth'] as Json)['authorityHost'] = 'https://u:p@login.example'), errors: ['auth.authorityHost: must not carry a user name or password'] },
  { name: 'an empty secret is no secret', change: (c) => ((c['auth'] as Json)['clientSecret'] = ''), errors: ['auth.clientSecret: is required in application mode (or give auth.certificate instead)'] },
  { name: 'an empty required option is still an error', change: (c) => ((c['auth'] as Json)['tenantId'] = ''), errors: ['auth.tenantId: must not be empty'] },
  { name: 'an empty mqtt block while an input needs it', change: (c) => (c['mqtt'] = {}), errors: ['mqtt: is required because an input has type "mqtt": give at least {"url": "mqtt://host:1883"}'] },
  { name: 'application mode without secret or certificate', change: (c) => delete (c['auth'] as Json)['clientSecret'], errors: ['auth.clientSecret: is required in application mode (or give auth.certificate instead)'] },
  { name: 'both secret and certificate', change: (c) => ((c['auth'] as Json)['certificate'] = { privateKeyFile: 'k.pem', thumbprint: 'AB12' }), errors: ['auth.certificate: give either clientSecret or certificate, not both'] },
  { name: 'tenant id that would change the sign-in path', change: (c) => ((c['auth'] as Json)['tenantId'] = 'common/../x'), errors: ['auth.tenantId: must not contain /, ?, #, %, \\, spaces or .. (it becomes part of a URL)'] },
  { name: 'proxy with a bad scheme', change: (c) => (c['proxy'] = 'socks5://127.0.0.1:1080'), errors: ['proxy: must be an http:// or https:// URL, not socks5://'] },

  // mqtt
  { name: 'mqtt input without mqtt settings', change: (c) => delete c['mqtt'], errors: ['mqtt: is required because an input has type "mqtt": give at least {"url": "mqtt://host:1883"}'] },
  { name: 'mqtt url scheme', change: (c) => (c['mqtt'] = { url: 'http://broker:1883' }), errors: ['mqtt.url: must start with mqtt://, mqtts://, ws:// or wss://, not http://'] },
  { name: 'mqtt url not a URL, password not echoed', change: (c) => (c['mqtt'] = { url: 'broker password=hunter2' }), errors: ['mqtt.url: is not a URL; write it like mqtt://192.168.1.10:1883'] },
  { name: 'topic with # in the middle', change: (c) => (input(c, 0)['topic'] = 'a/#/b'), errors: ['inputs[0].topic: may use # only as the whole last level, e.g. sensors/#'] },
  { name: 'topic with a partial +', change: (c) => (input(c, 0)['topic'] = 'a/b+/c'), errors: ['inputs[0].topic: may use + only as a whole level, e.g. sensors/+/state'] },

  // serial ports shared
  {
    name: 'serial inputs on one port disagree on speed',
    change: (c) => (c['inputs'] as Json[]).push({ name: 'Mute', type: 'serial', path: '/dev/ttyUSB0', baudRate: 115200, map: { MUTE: 'Busy/InAConferenceCall' } }),
    errors: ['inputs[2].baudRate: 115200 differs from inputs[1] (9600) on the same port /dev/ttyUSB0; one port has one speed'],
  },
  {
    name: 'serial inputs on one port disagree on delimiter',
    change: (c) => (c['inputs'] as Json[]).push({ name: 'Mute', type: 'serial', path: '/dev/ttyUSB0', delimiter: '\r', map: { MUTE: 'Busy/InAConferenceCall' } }),
    errors: ['inputs[2].delimiter: differs from inputs[1] on the same port /dev/ttyUSB0; lines are cut once per port'],
  },
  {
    name: 'serial output on an input port with another speed',
    change: (c) => (c['outputs'] = [{ type: 'serial', name: 'Light', path: '/dev/ttyUSB0', baudRate: 19200, templates: { Busy: 'RED\n' } }]),
    errors: ['outputs[0].baudRate: 19200 differs from inputs[1] (9600) on the same port /dev/ttyUSB0; one port has one speed'],
  },

  // homekit
  { name: 'homekit switch not a session pair', change: (c) => (c['homekit'] = { switches: ['Busy/InACall', 'Offline/OffWork'] }), errors: [`homekit.switches[1]: "Offline/OffWork" is not a presence setPresence accepts; use one of ${PAIRS} (Offline/OffWork is only a preferred presence, set with presence-bridge prefer)`] },
  { name: 'homekit switch repeated', change: (c) => (c['homekit'] = { switches: ['Busy/InACall', 'busy / inacall'] }), errors: ['homekit.switches[1]: Busy/InACall is already a switch'] },
  { name: 'homekit status sensor unknown', change: (c) => (c['homekit'] = { statusSensors: ['OnAir'] }), errors: ['homekit.statusSensors[0]: must be one of "Available", "Busy", "InACall", "InAMeeting", "Presenting", "DoNotDisturb", "Away", "BeRightBack", "Offline", "OutOfOffice"'] },
  { name: 'homekit status sensor repeated', change: (c) => (c['homekit'] = { statusSensors: ['InACall', 'Busy', 'InACall'] }), errors: ['homekit.statusSensors[2]: "InACall" is already a status sensor'] },
];

describe('validateConfig: each mistake gives exactly its path: message', () => {
  it('accepts the base config', () => {
    const result = validateConfig(base());
    expect(result.ok ? [] : result.errors).toEqual([]);
  });

  it.each(cases)('$name', ({ change, errors }) => {
    const config = base();
    change(config);
    const result = validateConfig(config);
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.errors).toEqual(errors);
  });
});

interface ValidCase {
  readonly name: string;
  readonly change: (c: Json) => void;
  readonly check: (config: Json) => void;
}

const validCases: readonly ValidCase[] = [
  {
    name: 'presence spellings become canonical everywhere',
    change: (c) => {
      input(c, 1)['map'] = { OFFHOOK: ' busy / inacall ', ONHOOK: 'CLEAR', X: 'Toggle', Y: { set: 'dnd/presenting'.replace('dnd', 'donotdisturb'), for: 'pt30m' } };
      input(c, 1)['toggle'] = ['away/away'];
      c['homekit'] = { switches: ['available/available'] };
    },
    check: (config) => {
      const inputs = config['inputs'] as Json[];
      expect(inputs[1]!['map']).toEqual({ OFFHOOK: 'Busy/InACall', ONHOOK: 'clear', X: 'toggle', Y: { set: 'DoNotDisturb/Presenting', for: 'PT30M' } });
      expect(inputs[1]!['toggle']).toEqual(['Away/Away']);
      expect((config['homekit'] as Json)['switches']).toEqual(['Available/Available']);
    },
  },
  {
    name: 'the only user is filled in on inputs and outputs',
    change: (c) => (c['outputs'] = [{ type: 'serial', name: 'Light', path: '/dev/ttyUSB5', templates: { busy: 'RED\n' } }]),
    check: (config) => {
      expect((config['inputs'] as Json[]).map((i) => i['user'])).toEqual(['alex', 'alex']);
      const output = (config['outputs'] as Json[])[0]!;
      expect(output['user']).toBe('alex');
      expect(output['templates']).toEqual({ Busy: 'RED\n' });
    },
  },
  {
    name: 'defaults are filled in',
    change: () => undefined,
    check: (config) => {
      expect(config['cloud']).toBe('global');
      expect(config['graph']).toEqual({ expiration: 'PT1H', maxRequestsPer30s: 1000, pollSeconds: 60, timeoutSeconds: 30 });
      expect((config['inputs'] as Json[])[1]).toMatchObject({ baudRate: 9600, delimiter: '\n', encoding: 'utf8', onDisconnect: 'clear' });
      expect((config['auth'] as Json)['mode']).toBe('application');
      expect(config['onShutdown']).toBe('clear');
    },
  },
  { name: 'expiration at the lower bound', change: (c) => (c['graph'] = { expiration: 'PT5M' }), check: (config) => expect((config['graph'] as Json)['expiration']).toBe('PT5M') },
  { name: 'expiration at the upper bound, lower case', change: (c) => (c['graph'] = { expiration: 'pt4h' }), check: (config) => expect((config['graph'] as Json)['expiration']).toBe('PT4H') },
  { name: 'UPN user id', change: (c) => ((c['users'] as Json[])[0]!['id'] = "o'neil.alex+desk@contoso.example"), check: (config) => expect((config['users'] as Json[])[0]!['id']).toBe("o'neil.alex+desk@contoso.example") },
  { name: 'delegated mode needs no secret', change: (c) => (c['auth'] = { mode: 'delegated', tenantId: 't', clientId: 'c' }), check: (config) => expect((config['auth'] as Json)['mode']).toBe('delegated') },
  { name: 'certificate instead of a secret', change: (c) => (c['auth'] = { tenantId: 't', clientId: 'c', certificate: { privateKeyFile: 'k.pem', thumbprint: 'AB' } }), check: (config) => expect((config['auth'] as Json)['certificate']).toEqual({ privateKeyFile: 'k.pem', thumbprint: 'AB' }) },
  { name: 'Homebridge child bridge settings are kept', change: (c) => (c['_bridge'] = { username: '0E:AA:BB:CC:DD:EE', port: 51900 }), check: (config) => expect(config['_bridge']).toEqual({ username: '0E:AA:BB:CC:DD:EE', port: 51900 }) },
  { name: 'plugin-qualified platform name', change: (c) => (c['platform'] = 'homebridge-presence-bridge.PresenceBridge'), check: (config) => expect(config['platform']).toBe('PresenceBridge') },
  { name: 'https authority and graph hosts', change: (c) => { (c['auth'] as Json)['authorityHost'] = 'https://127.0.0.1:8443'; c['graph'] = { baseUrl: 'https://127.0.0.1:8443' }; }, check: (config) => expect((config['graph'] as Json)['baseUrl']).toBe('https://127.0.0.1:8443') },
  { name: 'wss broker and wildcard topics', change: (c) => { c['mqtt'] = { url: 'wss://broker.example/mqtt' }; input(c, 0)['topic'] = 'z2m/+/action/#'; }, check: (config) => expect((config['inputs'] as Json[])[0]!['topic']).toBe('z2m/+/action/#') },
  {
    name: 'a value list instead of a map (what the form writes), merged into the map the mapping reads',
    change: (c) => {
      delete input(c, 1)['map'];
      input(c, 1)['values'] = [
        { value: 'OFFHOOK', presence: 'busy/inacall', for: 'pt30m' },
        { value: 'ONHOOK', presence: 'clear', for: '' },
      ];
    },
    check: (config) => expect((config['inputs'] as Json[])[1]?.['map']).toEqual({ OFFHOOK: { set: 'Busy/InACall', for: 'PT30M' }, ONHOOK: 'clear' }),
  },
  { name: 'serial inputs sharing a port at one speed', change: (c) => (c['inputs'] as Json[]).push({ name: 'Mute', type: 'serial', path: '/dev/ttyUSB0', baudRate: 9600, map: { MUTE: 'Busy/InAConferenceCall' } }), check: (config) => expect((config['inputs'] as Json[]).length).toBe(3) },
  {
    name: 'optional options left empty by a form count as not set',
    change: (c) => {
      c['mqtt'] = { url: 'mqtt://broker', username: '', password: '', clientId: '' };
      (c['auth'] as Json)['certificate'] = {};
      (c['auth'] as Json)['authorityHost'] = '';
      c['graph'] = { baseUrl: '' };
      c['proxy'] = '';
      c['tls'] = { caFile: '' };
      input(c, 0)['field'] = '';
      (c['users'] as Json[])[0]!['name'] = '';
    },
    check: (config) => {
      expect(config['mqtt']).not.toHaveProperty('username');
      expect(config['mqtt']).not.toHaveProperty('password');
      expect(config['auth']).not.toHaveProperty('certificate');
      expect(config['auth']).not.toHaveProperty('authorityHost');
      expect(config['graph']).not.toHaveProperty('baseUrl');
      expect(config).not.toHaveProperty('proxy');
      expect(config['tls']).toEqual({});
      expect((config['inputs'] as Json[])[0]).not.toHaveProperty('field');
      expect((config['users'] as Json[])[0]).toEqual({ key: 'alex', id: GUID });
    },
  },
  { name: 'no inputs at all', change: (c) => { delete c['inputs']; delete c['mqtt']; }, check: (config) => expect(config['inputs']).toEqual([]) },
];

describe('validateConfig: valid variations come back normalised', () => {
  it.each(validCases)('$name', ({ change, check }) => {
    const config = base();
    change(config);
    const result = validateConfig(config);
    if (!result.ok) throw new Error(result.errors.join('\n'));
    check(result.config);
  });

  it('does not change the object it was given', () => {
    const config = base();
    input(config, 1)['map'] = { OFFHOOK: 'busy/inacall' };
    const before = structuredClone(config);
    validateConfig(config);
    expect(config).toEqual(before);
  });
});

describe('validateConfig: a config with a dozen mistakes', () => {
  const raw = JSON.parse(readFileSync(new URL('../fixtures/config/dozen-mistakes.json', import.meta.url), 'utf8')) as unknown;

  it('reports every mistake at once, in file order', () => {
    const result = validateConfig(raw);
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.errors).toEqual([
      'cloud: must be one of "global", "usgov", "dod", "china"',
      'auth.clientSecert: unknown option "clientSecert"; did you mean "clientSecret"?',
      'auth.authorityHost: must be an https:// URL, not http://',
      'auth.clientSecret: is required in application mode (or give auth.certificate instead)',
      'graph.expiration: "PT8H" is outside what setPresence accepts: PT5M to PT4H',
      'users[1].key: "alex" is already the key of users[0]; keys must be unique',
      'users[1].id: "../../me" must be an object id (GUID) or a user principal name (name@domain); it must not contain /, ?, #, %, \\, spaces or ..',
      'inputs[0].map.hold.for: "half an hour" is not an ISO 8601 duration; write e.g. PT30M or PT1H30M',
      'inputs[0].toggle: is required because a map value is "toggle": list the presences it cycles through, e.g. ["Busy/InACall"]',
      'inputs[1].user: "sam" is not a configured user key; use one of alex',
      `inputs[1].map.OFFHOOK: "Busy/Lunch" is not a presence setPresence accepts; use one of ${PAIRS}, or clear, or toggle`,
      'inputs[2].name: "Headset" is already the name of inputs[1]; names must be unique',
      'inputs[2].baudRate: 115200 differs from inputs[1] (9600) on the same port /dev/ttyUSB0; one port has one speed',
      'inputs[3].type: must be one of "mqtt", "serial"',
      'inputs[3].map: needs at least one value, e.g. {"ON": "Busy/InACall", "OFF": "clear"}',
      `homekit.switches[0]: "Busy/Busy" is not a presence setPresence accepts; use one of ${PAIRS} (Busy/Busy is only a preferred presence, set with presence-bridge prefer)`,
      'mqtt: is required because an input has type "mqtt": give at least {"url": "mqtt://host:1883"}',
    ]);
  });

  it('never repeats the secret', () => {
    const result = validateConfig(raw);
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });
});

describe('secrets never appear in errors', () => {
  it.each([
    ['a secret of the wrong type', (c: Json) => ((c['auth'] as Json)['clientSecret'] = 12345678)],
    ['an empty secret next to other errors', (c: Json) => { (c['auth'] as Json)['clientSecret'] = ''; c['cloud'] = 'x'; }],
    ['a broker password in a bad URL', (c: Json) => (c['mqtt'] = { url: 'ftp://bridge:hunter2-secret@broker', password: 'hunter2-secret' })],
    ['a misspelt password option', (c: Json) => (c['mqtt'] = { url: 'mqtt://broker', pasword: 'hunter2-secret' })],
  ])('%s', (_name, change) => {
    const config = base();
    change(config);
    const result = validateConfig(config);
    expect(result.ok).toBe(false);
    const text = JSON.stringify(result);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('12345678');
    expect(text).not.toContain(SECRET);
  });
});

describe('helpers', () => {
  it.each([
    [['inputs', 1, 'map', 'OFFHOOK'], 'inputs[1].map.OFFHOOK'],
    [['auth', 'clientSecret'], 'auth.clientSecret'],
    [['users', 0, 'id'], 'users[0].id'],
    [['inputs', 0, 'map', 'state.hook'], 'inputs[0].map["state.hook"]'],
    [['inputs', 0, 'map', '1'], 'inputs[0].map["1"]'],
    [[], '(config)'],
  ] as const)('formatPath(%j) = %s', (path, text) => {
    expect(formatPath(path)).toBe(text);
  });

  it.each([
    [GUID, true],
    ['alex@contoso.example', true],
    ['alex@contoso', true],
    ['alex', false],
    ['@contoso.example', false],
    ['alex@', false],
    ['a@b@c', false],
    ['a b@c.example', false],
    ['a@c.example/x', false],
    ['a@c.example#x', false],
    ['a..b@c.example', false],
    ['a@c.example\\x', false],
  ])('userIdProblem(%s) accepts: %s', (id, accepted) => {
    expect(userIdProblem(id) === undefined).toBe(accepted);
  });

  it.each([
    ['a/b', true],
    ['#', true],
    ['a/+/b/#', true],
    ['+', true],
    ['a/#/b', false],
    ['a#', false],
    ['a/b+', false],
  ])('topicFilterProblem(%s) accepts: %s', (topic, accepted) => {
    expect(topicFilterProblem(topic) === undefined).toBe(accepted);
  });

  it('refuses a value that is not an object', () => {
    expect(validateConfig([])).toEqual({ ok: false, errors: ['(config): must be a JSON object, not a list'] });
    expect(validateConfig(null)).toEqual({ ok: false, errors: ['(config): must be a JSON object, not null'] });
  });
});

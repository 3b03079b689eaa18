import type { EmulatedUser, Emulator } from '../emulator/index.js';
import { emulatorConfigBlock } from '../emulator/configBlock.js';

/** Emulated seconds per real second in the demo (fading and renewals show in seconds). */
export const DEFAULT_TIME_SCALE = 60;

/** One thing to try in the demo: a message a device would publish, and what it does. */
export interface DemoStep {
  /** What happens, for people: "Megan picks up her headset: she turns Busy (InACall)". */
  readonly what: string;
  /** Short button label on the status page. */
  readonly label: string;
  readonly topic: string;
  readonly payload: string;
}

export const DESK_BUTTON_TOPIC = 'zigbee2mqtt/desk_button';
export const HEADSET_TOPIC = 'desk/headset/hook';
export const LEE_DESK_TOPIC = 'desk/lee/status';

/** Microsoft Teams' own client id: the demo gives Lee a session of it, as a running Teams holds. */
export const TEAMS_CLIENT_ID = '1fec8e78-bce4-4aaf-ab1b-5451cc387264';

/** Lee has Teams running and is in a meeting there: the session the demo gives Lee's Teams client. */
export const LEE_TEAMS_SESSION = { clientId: TEAMS_CLIENT_ID, availability: 'Busy', activity: 'InAMeeting', expirationDuration: 'PT24H' } as const;

/** The third emulator user: configured by user principal name, with Teams running. */
export function demoTeamsUser(emulator: Pick<Emulator, 'users'>): DemoUser | undefined {
  const lee = emulator.users[2];
  return lee ? { key: 'lee', user: lee } : undefined;
}
export const DEMO_BASE_TOPIC = 'presence-bridge';

/** The users the demo drives: the emulator's first two. */
export interface DemoUser {
  readonly key: string;
  readonly user: EmulatedUser;
}

export function demoUsers(emulator: Pick<Emulator, 'users'>): [DemoUser, DemoUser] {
  const [alex, megan] = emulator.users;
  if (!alex || !megan) throw new Error('the emulator has fewer than two users');
  return [
    { key: 'alex', user: alex },
    { key: 'megan', user: megan },
  ];
}

/**
 * The demo's config: the emulator as Microsoft Graph and sign-in, the embedded broker (MQTT 3.1.1),
 * a zigbee2mqtt-style desk button for Alex and a headset hook sensor for Megan. It is an ordinary
 * config (validated like any other), so it doubles as a starting point for a real one.
 */
export function demoConfig(emulator: Pick<Emulator, 'users' | 'apps' | 'tenantId' | 'authorityHost' | 'graphBaseUrl' | 'caCertFile'>, mqttUrl: string): Record<string, unknown> {
  const [alex, megan] = demoUsers(emulator);
  const lee = demoTeamsUser(emulator);
  return {
    platform: 'PresenceBridge',
    name: 'Presence Bridge demo',
    // Emulated time: PT1H lasts a minute at ×60, and read-back every 2 real seconds.
    ...emulatorConfigBlock(emulator, { graph: { expiration: 'PT1H', pollSeconds: 120 } }),
    mqtt: { url: mqttUrl, protocolVersion: 4, baseTopic: DEMO_BASE_TOPIC },
    users: [
      { key: alex.key, id: alex.user.id, name: alex.user.displayName },
      { key: megan.key, id: megan.user.id, name: megan.user.displayName },
      // by user principal name: resolved once to the object id (User.ReadBasic.All)
      ...(lee ? [{ key: lee.key, id: lee.user.userPrincipalName, name: lee.user.displayName }] : []),
    ],
    inputs: [
      {
        type: 'mqtt',
        name: 'Desk button',
        topic: DESK_BUTTON_TOPIC,
        field: 'action',
        user: 'alex',
        map: { single: 'toggle', double: 'Available/Available', hold: 'DoNotDisturb/Presenting' },
        toggle: ['Busy/InACall'],
      },
      {
        type: 'mqtt',
        name: 'Headset',
        topic: HEADSET_TOPIC,
        user: 'megan',
        map: { OFFHOOK: 'Busy/InACall', ONHOOK: 'clear' },
      },
      ...(lee ? [{ type: 'mqtt', name: 'Lee desk', topic: LEE_DESK_TOPIC, user: lee.key, map: { in: 'Available/Available', out: 'clear' } }] : []),
    ],
    onShutdown: 'clear',
  };
}

/** What the demo suggests, in an order that tells a story; the page's buttons are the same. */
export const DEMO_STEPS: readonly DemoStep[] = [
  { what: 'Megan picks up her headset: she turns Busy (InACall)', label: 'Headset off hook', topic: HEADSET_TOPIC, payload: 'OFFHOOK' },
  { what: 'Megan hangs up: her session is cleared', label: 'Headset on hook', topic: HEADSET_TOPIC, payload: 'ONHOOK' },
  { what: "Alex presses the desk button: Busy (InACall); press again and it clears", label: 'Button: single press', topic: DESK_BUTTON_TOPIC, payload: '{"action":"single"}' },
  { what: 'Alex holds the button: DoNotDisturb (Presenting)', label: 'Button: hold', topic: DESK_BUTTON_TOPIC, payload: '{"action":"hold"}' },
  {
    what: 'Alex double-presses: Available, re-posted every few seconds before Graph would fade it',
    label: 'Button: double press',
    topic: DESK_BUTTON_TOPIC,
    payload: '{"action":"double"}',
  },
  { what: "Any presence for anyone, on the bridge's command topic", label: 'Command: Megan Away', topic: `${DEMO_BASE_TOPIC}/megan/set`, payload: 'Away/Away' },
  { what: 'Back to nothing: clear that command', label: 'Command: Megan clear', topic: `${DEMO_BASE_TOPIC}/megan/set`, payload: 'clear' },
  {
    what: "Lee sits down while Teams has Lee in a meeting: the bridge's Available is set but Teams' own Busy outranks it (normal, not a fault)",
    label: 'Lee at the desk',
    topic: LEE_DESK_TOPIC,
    payload: 'in',
  },
];

/** Quote for a POSIX shell: bare when safe, else in single quotes. */
export function shellQuote(text: string): string {
  if (/^[A-Za-z0-9_./:=@%+-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export function mosquittoPubCommand(host: string, port: number, topic: string, payload: string): string {
  return `mosquitto_pub -h ${host} -p ${port} -t ${shellQuote(topic)} -m ${shellQuote(payload)}`;
}

/** The same with nothing but Node: the mqtt package ships an `mqtt` command. */
export function npxMqttPubCommand(host: string, port: number, topic: string, payload: string): string {
  return `npx mqtt pub -h ${host} -p ${port} -t ${shellQuote(topic)} -m ${shellQuote(payload)}`;
}

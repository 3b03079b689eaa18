import type { FeatureBridge, FeatureContext } from '../feature.js';

/**
 * The bridge control and the listen-only events of a feature's context as one object, for
 * feature classes written against a bridge with `events` (MQTT, serial). Delegates call by call,
 * so nothing of the bridge itself (such as `events.emit`) leaks through.
 */
export function featureBridge(context: Pick<FeatureContext, 'bridge' | 'events'>): FeatureBridge {
  const { bridge, events } = context;
  // Call by call (the bridge may be a class instance, whose methods a spread would miss).
  return Object.freeze({
    events,
    signal: (signal) => bridge.signal(signal),
    inputDisconnected: (input) => bridge.inputDisconnected(input),
    ...(bridge.dropped ? { dropped: (drop) => bridge.dropped?.(drop) } : {}),
    setIntent: (userKey, input, intent) => bridge.setIntent(userKey, input, intent),
    prefer: (userKey, presence, expirationDuration) => bridge.prefer(userKey, presence, expirationDuration),
    states: () => bridge.states(),
    activeIntents: (userKey) => bridge.activeIntents(userKey),
    state: (userKey) => bridge.state(userKey),
    ...(bridge.setUsers ? { setUsers: (users) => bridge.setUsers?.(users) } : {}),
  } satisfies FeatureBridge);
}

import { describe, expect, it } from 'vitest';
import { graphCallEvent } from '../../src/session/graphCallEvent.js';
import { GraphError } from '../../src/graph/types.js';
import { GraphConfigError } from '../../src/shared/errors.js';

const meta = { userKey: 'alex', operation: 'setPresence', detail: 'Busy/InACall', startedAt: 1_000, endedAt: 1_250 } as const;

describe('graphCallEvent: the one builder of graphCall events', () => {
  it('a success carries the timing and neither status nor errorCode', () => {
    const event = graphCallEvent({ ...meta, outcome: { ok: true } });
    expect(event).toEqual({ userKey: 'alex', operation: 'setPresence', detail: 'Busy/InACall', ok: true, startedAt: 1_000, durationMs: 250 });
    expect('status' in event || 'errorCode' in event).toBe(false);
  });

  it('a Graph answer carries its status and stable code', () => {
    const error = new GraphError('throttled', { code: 'THROTTLED', status: 429, hint: 'slow down', retryable: true, retryAfterMs: 2_128 });
    expect(graphCallEvent({ ...meta, outcome: { ok: false, error } })).toEqual({ userKey: 'alex', operation: 'setPresence', detail: 'Busy/InACall', ok: false, status: 429, errorCode: 'THROTTLED', startedAt: 1_000, durationMs: 250 });
  });

  it('a Graph error without an HTTP answer (network) carries its code and no status', () => {
    const error = new GraphError('refused', { code: 'NETWORK', hint: 'check the network', retryable: true });
    const event = graphCallEvent({ ...meta, outcome: { ok: false, error } });
    expect(event.errorCode).toBe('NETWORK');
    expect('status' in event).toBe(false);
  });

  it.each([
    ['a TypeError', new TypeError('x is not a function')],
    ['another BridgeError', new GraphConfigError('bad CA file')],
    ['a non-Error rejection', 'boom'],
    ['an undefined rejection', undefined],
  ])('any other failure (%s) is errorCode UNEXPECTED, never a missing code or a success', (_name, error) => {
    const event = graphCallEvent({ userKey: null, operation: 'getPresences', startedAt: 5, endedAt: 5, outcome: { ok: false, error } });
    expect(event).toEqual({ userKey: null, operation: 'getPresences', ok: false, errorCode: 'UNEXPECTED', startedAt: 5, durationMs: 0 });
  });
});

import { describe, expect, it } from 'vitest';
import { filterCovers, reduceFilters, topicFilterProblem, topicMatches } from '../../src/mqtt/topicFilter.js';
import { checkPayload, MAX_PAYLOAD_BYTES } from '../../src/shared/payloadGuard.js';
import { parsePreferCommand, parseSetCommand } from '../../src/mqtt/commandPayload.js';
import { LogLimiter } from '../../src/shared/logLimiter.js';
import { ManualClock } from '../../src/shared/clock.js';
import type { Logger } from '../../src/logger.js';
import { capturingLogger } from '../helpers/logger.js';

describe('topic filters', () => {
  it.each([
    ['a/b', 'a/b', true],
    ['a/b', 'a/c', false],
    ['a/+', 'a/b', true],
    ['a/+', 'a/b/c', false],
    ['a/+', 'a', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['#', 'x/y', true],
    ['#', '$SYS/broker', false],
    ['+/b', '$SYS/b', false],
    ['+/+/set', 'pb/alex/set', true],
    ['zigbee2mqtt/+/action', 'zigbee2mqtt/desk/action', true],
    ['a/b', 'a/b/', false],
  ])('%s matches %s: %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });

  it.each([
    ['a/#', 'a/b', true],
    ['a/#', 'a/+/c', true],
    ['a/+/#', 'a/#', false],
    ['a/+', 'a/b', true],
    ['a/b', 'a/+', false],
    ['a/+/c', 'a/b/+', false],
    ['#', 'a/#', true],
  ])('%s covers %s: %s', (outer, inner, expected) => {
    expect(filterCovers(outer, inner)).toBe(expected);
  });

  it('reduces filters to the fewest that receive everything, keeping partial overlaps', () => {
    expect(reduceFilters(['a/b', 'a/#', 'a/b', 'c/+', 'c/d', 'x/+/z', 'x/y/+'])).toEqual(['a/#', 'c/+', 'x/+/z', 'x/y/+']);
  });

  it.each([
    ['a/b', undefined],
    ['a/#', undefined],
    ['a/#/b', '# must be a whole level and the last one'],
    ['a/b#', '# must be a whole level and the last one'],
    ['a/b+/c', '+ must be a whole level'],
    ['', 'empty topic'],
  ])('filter %j problem: %s', (filter, problem) => {
    expect(topicFilterProblem(filter)).toBe(problem);
  });
});

describe('payload guard', () => {
  const bytes = (...b: number[]) => Uint8Array.from(b);
  it.each([
    ['plain text', Buffer.from('single'), { ok: true, text: 'single' }],
    ['JSON with newline', Buffer.from('{"action":"single"}\n'), { ok: true, text: '{"action":"single"}\n' }],
    ['UTF-8 text', Buffer.from('Bürо ✓'), { ok: true, text: 'Bürо ✓' }],
    ['invalid UTF-8', bytes(0xc3, 0x28), { ok: false, code: 'notUtf8', reason: 'payload is not valid UTF-8' }],
    ['lone continuation byte', bytes(0x80), { ok: false, code: 'notUtf8', reason: 'payload is not valid UTF-8' }],
    ['NUL byte', bytes(0x6f, 0x00, 0x6e), { ok: false, code: 'binary', reason: 'payload contains binary control characters' }],
    ['escape', bytes(0x1b, 0x5b), { ok: false, code: 'binary', reason: 'payload contains binary control characters' }],
  ])('%s', (_name, payload, expected) => {
    expect(checkPayload(payload)).toEqual(expected);
  });

  it('refuses payloads over the size limit and accepts one at it', () => {
    expect(checkPayload(Buffer.alloc(MAX_PAYLOAD_BYTES, 0x61)).ok).toBe(true);
    expect(checkPayload(Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x61))).toEqual({ ok: false, code: 'tooLarge', reason: `payload of ${MAX_PAYLOAD_BYTES + 1} bytes is over the ${MAX_PAYLOAD_BYTES}-byte limit` });
  });
});

describe('set command payloads', () => {
  it.each([
    ['Busy/InACall', { kind: 'set', pair: { availability: 'Busy', activity: 'InACall' } }],
    [' busy / inacall ', { kind: 'set', pair: { availability: 'Busy', activity: 'InACall' } }],
    ['DoNotDisturb/Presenting', { kind: 'set', pair: { availability: 'DoNotDisturb', activity: 'Presenting' } }],
    ['clear', { kind: 'clear' }],
    ['CLEAR', { kind: 'clear' }],
    ['"clear"', { kind: 'clear' }],
    ['"Away/Away"', { kind: 'set', pair: { availability: 'Away', activity: 'Away' } }],
    ['{"availability":"Busy","activity":"InACall"}', { kind: 'set', pair: { availability: 'Busy', activity: 'InACall' } }],
    ['{"availability":"Busy","activity":"InAConferenceCall","expiration":"PT30M"}', { kind: 'set', pair: { availability: 'Busy', activity: 'InAConferenceCall' }, durationMs: 1_800_000 }],
    ['{"availability":"Busy","activity":"InACall","expiration":"P1D"}', { kind: 'set', pair: { availability: 'Busy', activity: 'InACall' }, durationMs: 86_400_000 }],
    ['{"availability":"clear"}', { kind: 'clear' }],
  ])('%j parses', (text, command) => {
    expect(parseSetCommand(text)).toEqual({ ok: true, command });
  });

  it.each([
    ['', 'empty payload'],
    ['Busy/Busy', '"Busy/Busy" is not a presence setPresence accepts'],
    ['Offline/OffWork', 'is not a presence setPresence accepts'],
    ['busy', '"busy" is not a presence'],
    ['{"availability":"Busy"', 'malformed JSON'],
    ['{"availability":"Busy"}', 'JSON payload needs string fields availability and activity'],
    ['{"availability":1,"activity":2}', 'JSON payload needs string fields availability and activity'],
    ['[1,2]', 'is not a presence'],
    ['{"availability":"Busy","activity":"InACall","expiration":30}', 'expiration must be an ISO 8601 duration string'],
    ['{"availability":"Busy","activity":"InACall","expiration":"30 minutes"}', 'is not a positive ISO 8601 duration'],
    ['{"availability":"Busy","activity":"InACall","expiration":"PT0S"}', 'is not a positive ISO 8601 duration'],
    ['{"availability":"Busy","activity":"InACall","expiration":"P30D"}', 'expiration "P30D" is longer than the P1D limit'],
    ['{"availability":"Busy","activity":"InACall","expiration":"PT24H1S"}', 'is longer than the P1D limit'],
    ['"{\\"a\\":1}"', 'malformed JSON'],
  ])('%j is rejected', (text, error) => {
    const result = parseSetCommand(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(error);
  });
});

describe('prefer command payloads', () => {
  it.each([
    ['Busy/Busy', { kind: 'prefer', presence: { availability: 'Busy', activity: 'Busy' } }],
    ['Offline/OffWork', { kind: 'prefer', presence: { availability: 'Offline', activity: 'OffWork' } }],
    ['clear', { kind: 'clear' }],
    ['{"availability":"BeRightBack","activity":"BeRightBack","expiration":"pt1h"}', { kind: 'prefer', presence: { availability: 'BeRightBack', activity: 'BeRightBack' }, expiration: 'PT1H' }],
  ])('%j parses', (text, command) => {
    expect(parsePreferCommand(text)).toEqual({ ok: true, command });
  });

  it.each([
    ['Busy/InACall', 'is not a preferred presence'],
    ['{oops', 'malformed JSON'],
    ['{"availability":"Busy","activity":"Busy","expiration":"soon"}', 'is not a positive ISO 8601 duration'],
    ['{"availability":"Busy","activity":"Busy","expiration":"P8D"}', 'expiration "P8D" is longer than the P7D limit'],
  ])('%j is rejected', (text, error) => {
    const result = parsePreferCommand(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(error);
  });
});

describe('log limiter', () => {
  /** The shared capturing logger, and the messages it kept, whatever their level. */
  function recorder(): { logger: Logger; lines: string[] } {
    const lines: string[] = [];
    return {
      lines,
      logger: capturingLogger((line) => {
        lines.push(line.message);
      }),
    };
  }

  it('logs at most perKey lines per topic per window, then one summary when the window ends', async () => {
    const clock = new ManualClock();
    const { logger, lines } = recorder();
    const limiter = new LogLimiter(logger, clock, { perKey: 3, total: 100, windowMs: 60_000 });
    const logged = Array.from({ length: 1000 }, (_, i) => limiter.warn('dev/a', `bad ${i}`));
    expect(logged.filter(Boolean)).toHaveLength(3);
    expect(logged.slice(0, 3)).toEqual([true, true, true]);
    expect(limiter.warn('dev/b', 'bad b')).toBe(true);
    expect(lines).toEqual(['bad 0', 'bad 1', 'bad 2', 'bad b']);
    await clock.advance(60_000);
    expect(lines.slice(4)).toEqual(['997 more dropped message(s) on dev/a in the last 60 s were not logged']);
    limiter.warn('dev/a', 'again');
    expect(lines.at(-1)).toBe('again');
  });

  it('caps the total over many topics', () => {
    const clock = new ManualClock();
    const { logger, lines } = recorder();
    const limiter = new LogLimiter(logger, clock, { perKey: 5, total: 10, windowMs: 1000 });
    for (let i = 0; i < 500; i++) limiter.warn(`dev/${i}`, `bad ${i}`);
    expect(lines).toHaveLength(10);
  });

  it('shares one bucket between topics past maxKeys', async () => {
    const clock = new ManualClock();
    const { logger, lines } = recorder();
    const limiter = new LogLimiter(logger, clock, { perKey: 5, total: 100, windowMs: 1000, maxKeys: 4 });
    for (let i = 0; i < 500; i++) limiter.warn(`dev/${i}`, `bad ${i}`);
    expect(lines).toEqual(['bad 0', 'bad 1', 'bad 2', 'bad 3', 'bad 4', 'bad 5', 'bad 6', 'bad 7', 'bad 8']);
    await clock.advance(1000);
    expect(lines.slice(9)).toEqual(['491 more dropped message(s) on (other topics) in the last 1 s were not logged']);
  });
});

import { describe, expect, it } from 'vitest';
import { TypedEvents } from '../../src/events.js';
import { silentLogger } from '../../src/logger.js';

describe('TypedEvents.listens', () => {
  it('is true exactly while a listener is subscribed to that event', () => {
    const events = new TypedEvents<{ a: number; b: string }>(silentLogger);
    expect(events.listens('a')).toBe(false);
    const off = events.on('a', () => undefined);
    expect(events.listens('a')).toBe(true);
    expect(events.listens('b')).toBe(false);
    off();
    expect(events.listens('a')).toBe(false);
  });
});

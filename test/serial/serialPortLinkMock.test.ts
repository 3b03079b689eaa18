import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock.js';
import { SerialPortLink, type SerialBinding } from '../../src/serial/serialPortLink.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { capturingLogger } from '../helpers/logger.js';
import { waitFor } from '../helpers/waitFor.js';

/**
 * The link on serialport's in-memory binding (@serialport/binding-mock, re-exported by serialport) instead of a PTY: the
 * device appears, talks and is written to with no socat and no timing of a real tty. The PTY
 * tests (serialPortLink.test.ts, the serial feature's) stay: only they see a real unplug.
 */
const cleanups = cleanupAfterEach();
/** serialport re-exports @serialport/binding-mock's MockBinding as SerialPortMock.binding. */
const MockBinding = SerialPortMock.binding;
type MockPortBinding = Awaited<ReturnType<typeof MockBinding.open>>;
type OpenOptions = Parameters<typeof MockBinding.open>[0];
afterEach(() => MockBinding.reset());

/** The mock binding, keeping each port it opens so the test can make the device talk. */
function recordingMockBinding(): { binding: SerialBinding; opened: MockPortBinding[] } {
  const opened: MockPortBinding[] = [];
  const binding = {
    ...MockBinding,
    list: () => MockBinding.list(),
    open: async (options: OpenOptions) => {
      const port = await MockBinding.open(options);
      opened.push(port);
      return port;
    },
  };
  return { binding: binding as unknown as SerialBinding, opened };
}

describe('SerialPortLink on an injected in-memory binding', () => {
  it('waits for a missing device on the clock, opens it when it appears, passes its bytes and writes to it', async () => {
    const path = '/dev/mock-headset';
    const { binding, opened } = recordingMockBinding();
    const clock = new ManualClock();
    const logger = capturingLogger();
    const delays: number[] = [];
    const link = new SerialPortLink({ path, baudRate: 9600, clock, logger, binding, reconnectDelay: (attempt) => (delays.push(attempt), 2_000) });
    cleanups.push(() => link.stop());
    const events: string[] = [];
    const data: string[] = [];
    link.events.on('missing', () => events.push('missing'));
    link.events.on('connected', ({ recovered }) => events.push(`connected recovered=${recovered}`));
    link.events.on('data', (chunk) => data.push(chunk.toString('utf8')));

    link.start();
    await waitFor(() => events.includes('missing'), { what: 'missing at start' });
    expect(link.connected).toBe(false);
    expect(clock.pending()).toBe(1); // the reopen waits for the clock, not for wall time

    MockBinding.createPort(path, { record: true });
    await clock.advance(1_999);
    expect(opened).toHaveLength(0);
    await clock.advance(1);
    await waitFor(() => link.connected, { what: 'open after the delay' });
    expect(events).toEqual(['missing', 'connected recovered=true']);
    expect(delays).toEqual([1]);
    expect(opened).toHaveLength(1);
    expect(opened[0]!.openOptions).toMatchObject({ path, baudRate: 9600 });

    opened[0]!.emitData('OFFHOOK\r\n');
    await waitFor(() => data.join('') === 'OFFHOOK\r\n', { what: 'bytes from the device' });

    expect(link.write('BUSY\n')).toBe(true);
    await waitFor(() => opened[0]!.recording.toString('utf8') === 'BUSY\n', { what: 'bytes to the device' });
    expect(logger.count('warn', /cannot open \/dev\/mock-headset/)).toBe(1);
    expect(logger.count('info', /is back/)).toBe(1);

    await link.stop();
    expect(opened[0]!.isOpen).toBe(false);
    expect(link.write('late')).toBe(false);
  });
});

import { read } from 'node:fs';
import { promisify } from 'node:util';
import type { SerialPort } from 'serialport';

type Binding = typeof SerialPort.binding;

/**
 * The serialport binding with one fix: on Linux and macOS a read that returns 0 bytes means the
 * device hung up, but bindings-cpp reads again at once, forever, so an unplug can go unnoticed
 * while a CPU spins and memory grows (https://github.com/serialport/bindings-cpp/issues/162).
 * Here such a read fails like any other read error, which makes the stream close the port with
 * a `disconnected` error, and the link reopens it. Everything else is the detected binding.
 */

const readAsync = promisify(read);

interface ReadResult {
  buffer: Buffer;
  bytesRead: number;
}

/** The parts of a unix port binding (LinuxPortBinding, DarwinPortBinding) the read needs. */
interface UnixPort {
  readonly isOpen: boolean;
  readonly fd: number | null;
  readonly poller: { once(event: 'readable', listener: (error: Error | null) => void): unknown };
  read(buffer: Buffer, offset: number, length: number): Promise<ReadResult>;
}

function isUnixPort(port: unknown): port is UnixPort {
  if (typeof port !== 'object' || port === null) return false;
  const candidate = port as Partial<UnixPort>;
  return 'fd' in candidate && typeof candidate.poller?.once === 'function' && typeof candidate.read === 'function';
}

/** An error the stream treats as "stopped on purpose", not as a disconnect. */
function canceled(message: string): Error {
  return Object.assign(new Error(message), { canceled: true });
}

function isRetryable(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR';
}

async function readOrHangUp(port: UnixPort, buffer: Buffer, offset: number, length: number): Promise<ReadResult> {
  for (;;) {
    const fd = port.fd;
    if (!port.isOpen || fd === null) throw canceled('Port is not open');
    let bytesRead: number;
    try {
      ({ bytesRead } = await readAsync(fd, buffer, offset, length, null));
    } catch (error) {
      if (!isRetryable(error)) throw error;
      if (!port.isOpen) throw canceled('Port is not open');
      // Nothing to read yet: wait until the fd is readable (or the poller is stopped on close).
      await new Promise<void>((resolve, reject) => {
        port.poller.once('readable', (pollError) => (pollError ? reject(pollError) : resolve()));
      });
      continue;
    }
    if (bytesRead === 0) throw new Error('the device hung up (end of file)');
    return { buffer, bytesRead };
  }
}

/** Wrap the detected binding so that every port it opens reports a hang-up as a disconnect. */
export function hangupAwareBinding(binding: Binding): Binding {
  const open = async (options: Parameters<Binding['open']>[0]): Promise<unknown> => {
    const port: unknown = await binding.open(options as never);
    if (isUnixPort(port)) port.read = (buffer, offset, length) => readOrHangUp(port, buffer, offset, length);
    return port;
  };
  return { ...binding, list: () => binding.list(), open } as unknown as Binding;
}

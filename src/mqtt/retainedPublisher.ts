import { digest } from '../shared/digest.js';

/** Where the coalescer sends: a QoS 1 retained publish that resolves false (never throws) when it fails. */
export interface RetainedSink {
  publish(topic: string, payload: string): Promise<boolean>;
  /** False while the connection is down: nothing is sent then, everything again after {@link RetainedPublisher.reset}. */
  readonly connected: boolean;
}

/** Runs `task` on a later turn of the event loop; returns a cancel function. */
export type Defer = (task: () => void) => () => void;

interface Wanted {
  readonly payload: string;
  readonly fingerprint: string;
}

const nextTurn: Defer = (task) => {
  const handle = setImmediate(task);
  return () => clearImmediate(handle);
};

/**
 * The retained state topics, coalesced: the latest payload per topic is kept and sent on a later
 * turn of the event loop, so a state change never publishes ahead of the Graph request that caused
 * it, and a burst of changes costs one publish per topic in flight instead of one each. At most one
 * publish per topic awaits its PUBACK; an unchanged payload is not sent again. The last wanted
 * payload is always the last one sent.
 */
export class RetainedPublisher {
  /**
   * Fingerprint ({@link digest}) of the last payload sent per topic, so an unchanged state is not
   * republished: a user's state payload is a few hundred bytes, its fingerprint 27 characters.
   */
  private readonly sent = new Map<string, string>();
  /** Latest payload wanted per topic, not sent yet (latest wins), with its fingerprint. */
  private readonly wanted = new Map<string, Wanted>();
  /** Topics with a publish awaiting the broker's PUBACK (at most one each), by a token of that publish. */
  private readonly inFlight = new Map<string, symbol>();
  private cancelFlush: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly sink: RetainedSink,
    private readonly defer: Defer = nextTurn,
  ) {}

  /** Asks for `payload` to be the retained message of `topic`. */
  want(topic: string, payload: string): void {
    if (this.stopped) return;
    const fingerprint = digest(payload);
    if (this.sent.get(topic) === fingerprint && !this.inFlight.has(topic)) {
      this.wanted.delete(topic); // back to what the broker holds
      return;
    }
    this.wanted.set(topic, { payload, fingerprint });
    this.cancelFlush ??= this.defer(() => {
      this.cancelFlush = undefined;
      this.flush();
    });
  }

  /** After a (re)connection: the broker may have lost everything, so nothing counts as sent. */
  reset(): void {
    this.sent.clear();
    this.wanted.clear();
    this.inFlight.clear(); // a publish of the previous connection must not hold back this one's
  }

  /**
   * Sends what is still wanted now, even where an older publish awaits its PUBACK (the final state
   * goes out before the connection closes), and refuses everything after.
   */
  stop(): void {
    this.stopped = true;
    this.cancelFlush?.();
    this.cancelFlush = undefined;
    for (const [topic, wanted] of this.wanted) this.send(topic, wanted);
    this.wanted.clear();
  }

  private flush(): void {
    for (const [topic, wanted] of this.wanted) {
      if (this.inFlight.has(topic)) continue; // sent when the one in flight is answered
      this.wanted.delete(topic);
      this.send(topic, wanted);
    }
  }

  private send(topic: string, { payload, fingerprint }: Wanted): void {
    if (this.sent.get(topic) === fingerprint) return;
    if (!this.sink.connected) return; // sent in full after the next reset
    this.sent.set(topic, fingerprint);
    const token = Symbol(topic);
    this.inFlight.set(topic, token);
    void this.sink.publish(topic, payload).then((ok) => {
      if (this.inFlight.get(topic) !== token) return; // a reconnection took over this topic
      this.inFlight.delete(topic);
      if (!ok && this.sent.get(topic) === fingerprint) this.sent.delete(topic);
      const next = this.wanted.get(topic);
      if (!this.stopped && next !== undefined) {
        this.wanted.delete(topic);
        this.send(topic, next);
      }
    });
  }
}

import { describe, expect, it } from 'vitest';
import { RetainedPublisher, type Defer, type RetainedSink } from '../../src/mqtt/retainedPublisher.js';

/**
 * The coalescer alone: a sink that records each publish and resolves its PUBACK when the test
 * says, and a deferral the test runs by hand, so every interleaving is explicit.
 */
function harness() {
  const sent: { topic: string; payload: string; ack: (ok: boolean) => void }[] = [];
  const sink: RetainedSink & { connected: boolean } = {
    connected: true,
    publish: (topic, payload) => new Promise<boolean>((resolve) => sent.push({ topic, payload, ack: resolve })),
  };
  const turns: (() => void)[] = [];
  const defer: Defer = (task) => {
    turns.push(task);
    return () => turns.splice(turns.indexOf(task), 1);
  };
  const nextTurn = () => turns.splice(0).forEach((t) => t());
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  return { sent, sink, turns, nextTurn, settle, publisher: new RetainedPublisher(sink, defer) };
}

describe('RetainedPublisher: latest wins, one publish in flight per topic', () => {
  it('sends nothing on the same turn, then only the latest payload of a burst', () => {
    const { sent, nextTurn, publisher, turns } = harness();
    publisher.want('a/state', '1');
    publisher.want('a/state', '2');
    publisher.want('a/state', '3');
    expect(sent).toEqual([]);
    expect(turns).toHaveLength(1); // one deferred flush for the whole burst
    nextTurn();
    expect(sent.map((s) => s.payload)).toEqual(['3']);
  });

  it('holds a topic while its publish awaits the PUBACK and sends the last wanted payload after it', async () => {
    const { sent, nextTurn, publisher, settle } = harness();
    publisher.want('a/state', '1');
    nextTurn();
    publisher.want('a/state', '2');
    publisher.want('a/state', '3');
    publisher.want('b/state', 'x'); // another topic is not held back
    nextTurn();
    expect(sent.map((s) => `${s.topic}=${s.payload}`)).toEqual(['a/state=1', 'b/state=x']);
    sent[0]!.ack(true);
    await settle();
    expect(sent.map((s) => `${s.topic}=${s.payload}`)).toEqual(['a/state=1', 'b/state=x', 'a/state=3']);
  });

  it('does not send a payload the broker already holds, and forgets it when the publish failed', async () => {
    const { sent, nextTurn, publisher, settle } = harness();
    publisher.want('t', 'same');
    nextTurn();
    sent[0]!.ack(true);
    await settle();
    publisher.want('t', 'same');
    nextTurn();
    expect(sent).toHaveLength(1);
    publisher.want('t', 'other');
    nextTurn();
    sent[1]!.ack(false); // failed: 'other' may not be at the broker
    await settle();
    publisher.want('t', 'other');
    nextTurn();
    expect(sent.map((s) => s.payload)).toEqual(['same', 'other', 'other']);
  });

  it('keeps a fingerprint of what was sent, not the payload, and still tells a one-character change from a repeat (issue 16, memory)', async () => {
    const { sent, nextTurn, publisher, settle } = harness();
    const state = (health: string) => JSON.stringify({ desired: 'Busy/InACall', confirmed: 'Busy/InACall', health, note: 'x'.repeat(300) });
    publisher.want('u/state', state('ok'));
    nextTurn();
    sent[0]!.ack(true);
    await settle();
    // what the publisher holds per topic is a short fingerprint, not the 300-odd characters sent
    const held = [...(publisher as unknown as { sent: Map<string, string> }).sent.values()];
    expect(held).toHaveLength(1);
    expect(held[0]!.length).toBeLessThan(32);
    expect(held[0]).not.toContain('Busy');
    publisher.want('u/state', state('ok')); // an unchanged state is still not republished
    nextTurn();
    expect(sent).toHaveLength(1);
    publisher.want('u/state', state('oK')); // one character differs: it is sent
    nextTurn();
    expect(sent.map((s) => s.payload)).toEqual([state('ok'), state('oK')]);
  });

  it('sends nothing while disconnected; after reset everything wanted again goes out, and a late PUBACK of the old connection holds nothing back', async () => {
    const { sent, sink, nextTurn, publisher, settle } = harness();
    publisher.want('t', '1');
    nextTurn();
    sink.connected = false;
    publisher.want('t', '2');
    nextTurn();
    sent[0]!.ack(true);
    await settle();
    expect(sent).toHaveLength(1);
    sink.connected = true;
    publisher.reset();
    publisher.want('t', '1'); // the broker may have lost it: sent again
    nextTurn();
    expect(sent.map((s) => s.payload)).toEqual(['1', '1']);
  });

  it('stop sends what is still wanted at once, even behind a publish in flight, and refuses later wants', () => {
    const { sent, nextTurn, publisher, turns } = harness();
    publisher.want('t', '1');
    nextTurn();
    publisher.want('t', '2');
    publisher.want('u', 'x');
    publisher.stop();
    expect(turns).toHaveLength(0); // the deferred flush was cancelled
    expect(sent.map((s) => `${s.topic}=${s.payload}`)).toEqual(['t=1', 't=2', 'u=x']);
    publisher.want('t', '3');
    nextTurn();
    expect(sent).toHaveLength(3);
  });
});

import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/command.js';
import { command as demo } from '../../src/cli/commands/demo.js';
import { DEMO_STEPS, mosquittoPubCommand, npxMqttPubCommand, shellQuote } from '../../src/demo/index.js';

function io(): CliIo & { err: () => string } {
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  return { stdout: new PassThrough(), stderr, env: {}, cwd: process.cwd(), interrupted: new Promise(() => undefined), err: () => err };
}

describe('presence-bridge demo arguments', () => {
  it.each([
    [['--port', 'abc'], '--port needs a port number, got "abc"'],
    [['--mqtt-port', '70000'], '--mqtt-port needs a port number, got "70000"'],
    [['--time-scale', '0'], '--time-scale needs a number above 0'],
    [['--time-scale', 'fast'], '--time-scale needs a number above 0'],
    [['--open'], "Unknown option '--open'"],
  ])('%j is refused with exit 2 before anything starts', async (args, message) => {
    const cli = io();
    expect(await demo.run(args, cli)).toBe(2);
    expect(cli.err()).toContain(message);
    expect(cli.err()).toContain('Usage: presence-bridge demo');
  });
});

describe('printed commands', () => {
  it.each([
    ['OFFHOOK', 'OFFHOOK'],
    ['Away/Away', 'Away/Away'],
    ['{"action":"single"}', `'{"action":"single"}'`],
    ["it's", `'it'\\''s'`],
    ['two words', `'two words'`],
  ])('quotes %s for a POSIX shell as %s', (text, quoted) => {
    expect(shellQuote(text)).toBe(quoted);
  });

  it('gives the same flags to mosquitto_pub and npx mqtt pub for every step', () => {
    for (const step of DEMO_STEPS) {
      const a = mosquittoPubCommand('127.0.0.1', 1883, step.topic, step.payload);
      const b = npxMqttPubCommand('127.0.0.1', 1883, step.topic, step.payload);
      expect(b.replace('npx mqtt pub', 'mosquitto_pub')).toBe(a);
      expect(a).toMatch(/^mosquitto_pub -h 127\.0\.0\.1 -p 1883 -t \S+ -m \S+$/);
    }
  });
});

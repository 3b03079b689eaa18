/**
 * Text from the network (topic names, user keys taken from a topic) made safe for one log line:
 * control characters, line and paragraph separators and bidirectional overrides become `\uXXXX`,
 * so a topic cannot forge a log line, move the cursor or recolour a terminal. Long text is cut.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function printable(text: string, max = 200): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return cut.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

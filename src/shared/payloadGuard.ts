/**
 * What may reach the mapping: text, valid UTF-8, no control characters other than tab and line
 * breaks, and not larger than a button or sensor would ever send.
 */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

export type PayloadCheck = { ok: true; text: string } | { ok: false; reason: string; code: 'tooLarge' | 'notUtf8' | 'binary' };

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export function checkPayload(payload: Uint8Array, maxBytes: number = MAX_PAYLOAD_BYTES): PayloadCheck {
  if (payload.byteLength > maxBytes) return { ok: false, code: 'tooLarge', reason: `payload of ${payload.byteLength} bytes is over the ${maxBytes}-byte limit` };
  let text: string;
  try {
    text = decoder.decode(payload);
  } catch {
    return { ok: false, code: 'notUtf8', reason: 'payload is not valid UTF-8' };
  }
  if (CONTROL.test(text)) return { ok: false, code: 'binary', reason: 'payload contains binary control characters' };
  return { ok: true, text };
}

/** A short printable excerpt of a payload for a log line or an error answer. */
export function excerpt(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/**
 * Backslash escapes in serial texts (templates, delimiters). In a JSON file `"RED\n"` already
 * holds a newline, but typed into the Homebridge UI form it arrives as a backslash and an `n`;
 * both must mean the same to the device. Recognised: `\n`, `\r`, `\t`, `\0`, `\\` and `\xHH`.
 * Any other backslash is kept as it is.
 */
export function decodeEscapes(text: string): string {
  return text.replace(/\\(x[0-9A-Fa-f]{2}|[nrt0\\])/g, (_match, code: string) => {
    switch (code) {
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case '0':
        return '\0';
      case '\\':
        return '\\';
      default:
        return String.fromCharCode(Number.parseInt(code.slice(1), 16));
    }
  });
}

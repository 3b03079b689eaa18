/**
 * Where and why `text` stops being JSON. JSON.parse's own message is not used: depending on the
 * Node version it lacks the position or quotes a slice of the file, which may hold a secret.
 */
export function locateJsonError(text: string): { offset: number; reason: string } | undefined {
  const scanner = new JsonScanner(text);
  try {
    scanner.document();
    return undefined;
  } catch (error) {
    if (error instanceof JsonStop) return { offset: error.offset, reason: error.reason };
    throw error;
  }
}

class JsonStop extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** A JSON grammar walk that only moves a position and stops at the first mistake. */
class JsonScanner {
  private i = 0;

  constructor(private readonly text: string) {}

  document(): void {
    this.value();
    this.space();
    if (this.i < this.text.length) this.fail(`unexpected ${this.describe()} after the end of the JSON value`);
  }

  private fail(reason: string): never {
    throw new JsonStop(this.i, reason);
  }

  private space(): void {
    while (this.i < this.text.length && ' \t\r\n'.includes(this.text[this.i] ?? '')) this.i++;
  }

  private describe(): string {
    return this.i >= this.text.length ? 'the end of the file' : `${JSON.stringify(this.text[this.i])}`;
  }

  private literal(word: string): void {
    if (this.text.startsWith(word, this.i)) this.i += word.length;
    else this.fail(`unexpected ${this.describe()}`);
  }

  private string(): void {
    const text = this.text;
    this.i++;
    for (;;) {
      if (this.i >= text.length) this.fail('unterminated string');
      const c = text.charCodeAt(this.i);
      if (c === 0x22) {
        this.i++;
        return;
      }
      if (c < 0x20) this.fail('line break or control character inside a string');
      if (c === 0x5c) {
        const next = text[this.i + 1] ?? '';
        if ('"\\/bfnrt'.includes(next) && next !== '') this.i += 2;
        else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(this.i + 2, this.i + 6))) this.i += 6;
        else this.fail('bad escape in a string');
      } else this.i++;
    }
  }

  private number(): void {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.text.slice(this.i));
    if (!match) this.fail(`unexpected ${this.describe()}`);
    else this.i += match[0].length;
  }

  /** After `{` or `[`: true when the container closes right away. */
  private opensEmpty(close: string): boolean {
    this.i++;
    this.space();
    if (this.text[this.i] !== close) return false;
    this.i++;
    return true;
  }

  /** After an entry: true when the container closes, false when a comma announces another entry. */
  private closesAfterEntry(close: string, what: string): boolean {
    this.space();
    if (this.text[this.i] === ',') {
      this.i++;
      return false;
    }
    if (this.text[this.i] === close) {
      this.i++;
      return true;
    }
    this.fail(`expected , or ${close} after ${what}, found ${this.describe()}`);
  }

  private object(): void {
    if (this.opensEmpty('}')) return;
    do {
      this.space();
      if (this.text[this.i] !== '"') this.fail(this.text[this.i] === '}' ? 'trailing comma before }' : `expected a quoted property name, found ${this.describe()}`);
      this.string();
      this.space();
      if (this.text[this.i] !== ':') this.fail(`expected : after the property name, found ${this.describe()}`);
      this.i++;
      this.value();
    } while (!this.closesAfterEntry('}', 'a property'));
  }

  private array(): void {
    if (this.opensEmpty(']')) return;
    do {
      this.space();
      if (this.text[this.i] === ']') this.fail('trailing comma before ]');
      this.value();
    } while (!this.closesAfterEntry(']', 'a list item'));
  }

  private value(): void {
    this.space();
    const c = this.text[this.i];
    if (c === '{') this.object();
    else if (c === '[') this.array();
    else if (c === '"') this.string();
    else if (c === 't') this.literal('true');
    else if (c === 'f') this.literal('false');
    else if (c === 'n') this.literal('null');
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) this.number();
    else this.fail(`unexpected ${this.describe()}`);
  }
}

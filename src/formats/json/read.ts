import { InputError } from '../../errors.js';
import { isStrictEncComment } from '../../enc-string.js';
import { isInt64 } from '../../values.js';
import type { Comment, Entry, ListNode, MapNode, Node, Scalar, ScalarType, ScalarValue } from '../../tree.js';

/**
 * A JSON reader that keeps what `JSON.parse` loses (member order, duplicate
 * keys, int64 precision) and remembers where every value sits in the text, so
 * an emitter can splice changed values back into the untouched source.
 */

export const MAX_DEPTH = 1000;

/**
 * Every node, entry and comment read from a file carries one of these as its
 * `origin`. Ordinals number them in document order (a container before its
 * items, an entry before its value), which is the order a tree walk visits
 * them: a walk that meets the same ordinals in the same order, with the same
 * item counts, proves the tree still has the shape that was read.
 */
export interface JsonOrigin {
  source: JsonSource;
  ordinal: number;
}

/** Where a scalar's token sits, and what it held when read. */
export interface ScalarOrigin extends JsonOrigin {
  start: number;
  end: number;
  type: ScalarType;
  value: ScalarValue;
}

export interface CommentOrigin extends JsonOrigin {
  start: number;
  end: number;
  text: string;
}

export interface ContainerOrigin extends JsonOrigin {
  /** Offset of the opening bracket. */
  start: number;
  count: number;
}

export interface EntryOrigin extends JsonOrigin {
  key: string;
}

/** A member of the top-level object: from its key's opening quote to the end of its value. */
export interface MemberSpan {
  entry: Entry;
  keyStart: number;
  valueEnd: number;
  /** The ordinals of the entry and everything in its value: [first, end). */
  firstOrdinal: number;
  endOrdinal: number;
}

export interface JsonSource {
  text: string;
  root: MapNode;
  /** Offsets of the top-level object's `{` and `}`. */
  open: number;
  close: number;
  members: MemberSpan[];
  /** How many ordinals were given out. */
  ordinals: number;
}

type Frame =
  | { node: MapNode; key?: string; keyStart?: number; keyOrdinal?: number }
  | { node: ListNode };

export function decodeUtf8(input: Uint8Array): string {
  // Invalid UTF-8 becomes U+FFFD, as Go's decoder does; a BOM stays in the text
  // so that layout splicing writes it back.
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(input);
}

class JsonReader {
  private pos = 0;
  private ordinal = 0;
  private readonly members: MemberSpan[] = [];
  private readonly source: JsonSource;

  constructor(private readonly text: string, private readonly file?: string) {
    this.source = { text, root: { kind: 'map', items: [] }, open: 0, close: 0, members: this.members, ordinals: 0 };
  }

  private fail(message: string, at = this.pos): never {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < at && i < this.text.length; i++) {
      if (this.text.charCodeAt(i) === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    const column = at - lineStart + 1;
    throw new InputError(`invalid JSON at line ${line}, column ${column}: ${message}`, this.file === undefined ? undefined : { file: this.file });
  }

  private unexpected(): never {
    this.fail(this.pos >= this.text.length ? 'unexpected end of input' : 'unexpected character');
  }

  private skipWhitespace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  /** Reads the top-level object; only whitespace may follow it, as in Go's decoder. */
  readDocument(): JsonSource {
    if (this.text.charCodeAt(0) === 0xfeff) this.pos = 1;
    this.skipWhitespace();
    if (this.pos >= this.text.length) this.unexpected();
    if (this.text[this.pos] !== '{') this.fail('the top level must be an object');
    const source = this.source;
    source.open = this.pos;
    source.root = this.readValue() as MapNode;
    source.close = this.pos - 1;
    source.ordinals = this.ordinal;
    this.skipWhitespace();
    // Anything after the object (a second object, say) would be neither data nor encrypted.
    if (this.pos < this.text.length) this.fail('unexpected text after the top-level object');
    return source;
  }

  // Iterative: nesting depth is bounded by MAX_DEPTH, never by the JS stack.
  private readValue(): Node {
    const stack: Frame[] = [];
    let result: Node | undefined;
    const t = this.text;

    /** Adds a finished value to its parent; true when it was the top-level value. */
    const attach = (value: Node): boolean => {
      const top = stack[stack.length - 1];
      if (!top) {
        result = value;
        return true;
      }
      if (top.node.kind === 'map') {
        const frame = top as { node: MapNode; key: string; keyStart: number; keyOrdinal: number };
        const origin: EntryOrigin = { source: this.source, ordinal: frame.keyOrdinal, key: frame.key };
        const entry: Entry = { kind: 'entry', key: frame.key, value, origin };
        top.node.items.push(entry);
        if (stack.length === 1) {
          this.members.push({ entry, keyStart: frame.keyStart, valueEnd: this.pos, firstOrdinal: frame.keyOrdinal, endOrdinal: this.ordinal });
        }
        return false;
      }
      if (value.kind === 'scalar' && value.type === 'str' && typeof value.value === 'string' && isStrictEncComment(value.value)) {
        const { ordinal, start, end } = value.origin as ScalarOrigin;
        const origin: CommentOrigin = { source: this.source, ordinal, start, end, text: value.value };
        top.node.items.push({ kind: 'comment', text: value.value, origin } satisfies Comment);
      } else {
        top.node.items.push(value);
      }
      return false;
    };

    for (;;) {
      this.skipWhitespace();
      const top = stack[stack.length - 1];
      if (top) {
        const closer = top.node.kind === 'map' ? '}' : ']';
        if (t[this.pos] === closer) {
          this.pos++;
          stack.pop();
          (top.node.origin as ContainerOrigin).count = top.node.items.length;
          if (attach(top.node)) return result!;
          continue;
        }
        if (top.node.items.length > 0) {
          if (t[this.pos] !== ',') this.fail(this.pos >= t.length ? 'unexpected end of input' : `expected ',' or '${closer}'`);
          this.pos++;
          this.skipWhitespace();
        }
        if (top.node.kind === 'map') {
          const frame = top as { node: MapNode; key?: string; keyStart?: number; keyOrdinal?: number };
          if (t[this.pos] !== '"') this.fail(this.pos >= t.length ? 'unexpected end of input' : 'expected a string key');
          frame.keyStart = this.pos;
          frame.keyOrdinal = this.ordinal++;
          frame.key = this.readString();
          this.skipWhitespace();
          if (t[this.pos] !== ':') this.fail(this.pos >= t.length ? 'unexpected end of input' : "expected ':'");
          this.pos++;
          this.skipWhitespace();
        }
      }
      const c = t[this.pos];
      if (c === '{' || c === '[') {
        if (stack.length >= MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
        const origin: ContainerOrigin = { source: this.source, ordinal: this.ordinal++, start: this.pos++, count: 0 };
        stack.push(c === '{' ? { node: { kind: 'map', items: [], origin } } : { node: { kind: 'list', items: [], origin } });
        continue;
      }
      const ordinal = this.ordinal++;
      const start = this.pos;
      const node = this.readScalar();
      node.origin = { source: this.source, ordinal, start, end: this.pos, type: node.type, value: node.value } satisfies ScalarOrigin;
      if (attach(node)) return result!;
    }
  }

  private readScalar(): Scalar {
    const t = this.text;
    const c = t[this.pos];
    if (c === '"') return { kind: 'scalar', type: 'str', value: this.readString() };
    if (t.startsWith('true', this.pos)) {
      this.pos += 4;
      return { kind: 'scalar', type: 'bool', value: true };
    }
    if (t.startsWith('false', this.pos)) {
      this.pos += 5;
      return { kind: 'scalar', type: 'bool', value: false };
    }
    if (t.startsWith('null', this.pos)) {
      this.pos += 4;
      return { kind: 'scalar', type: 'null', value: null };
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.readNumber();
    this.unexpected();
  }

  private readNumber(): Scalar {
    const t = this.text;
    const start = this.pos;
    const digits = (): void => {
      const from = this.pos;
      while (this.pos < t.length && t.charCodeAt(this.pos) >= 0x30 && t.charCodeAt(this.pos) <= 0x39) this.pos++;
      if (this.pos === from) this.fail(this.pos >= t.length ? 'unexpected end of input' : 'invalid number');
    };
    if (t[this.pos] === '-') this.pos++;
    if (t[this.pos] === '0') this.pos++;
    else digits();
    let integral = true;
    if (t[this.pos] === '.') {
      integral = false;
      this.pos++;
      digits();
    }
    if (t[this.pos] === 'e' || t[this.pos] === 'E') {
      integral = false;
      this.pos++;
      if (t[this.pos] === '+' || t[this.pos] === '-') this.pos++;
      digits();
    }
    const literal = t.slice(start, this.pos);
    if (integral) {
      const v = BigInt(literal);
      if (isInt64(v)) return { kind: 'scalar', type: 'int', value: v };
    }
    const n = Number(literal);
    if (!Number.isFinite(n)) this.fail('number out of range', start);
    return { kind: 'scalar', type: 'float', value: n };
  }

  private readString(): string {
    const t = this.text;
    const start = this.pos;
    this.pos++;
    let out = '';
    let chunk = this.pos;
    for (;;) {
      if (this.pos >= t.length) this.fail('unterminated string', start);
      const c = t.charCodeAt(this.pos);
      if (c === 0x22) {
        out += t.slice(chunk, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) this.fail('control character in string');
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out += t.slice(chunk, this.pos);
      const escape = t[this.pos + 1];
      this.pos += 2;
      switch (escape) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': out += this.readUnicodeEscape(); break;
        default:
          this.fail(escape === undefined ? 'unterminated string' : 'invalid escape in string', this.pos - 2);
      }
      chunk = this.pos;
    }
  }

  /** After `\u`: one code point; unpaired surrogates become U+FFFD, as in Go. */
  private readUnicodeEscape(): string {
    const unit = this.hex4(this.pos);
    this.pos += 4;
    if (unit >= 0xd800 && unit <= 0xdbff && this.text[this.pos] === '\\' && this.text[this.pos + 1] === 'u') {
      const low = this.hex4(this.pos + 2);
      if (low >= 0xdc00 && low <= 0xdfff) {
        this.pos += 6;
        return String.fromCharCode(unit, low);
      }
    }
    if (unit >= 0xd800 && unit <= 0xdfff) return '\ufffd';
    return String.fromCharCode(unit);
  }

  private hex4(at: number): number {
    const hex = this.text.slice(at, at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('invalid \\u escape in string', at - 2);
    return parseInt(hex, 16);
  }
}

/** Reads JSON text whose top level is an object, with the position of every value. */
export function readJson(text: string, file?: string): JsonSource {
  return new JsonReader(text, file).readDocument();
}

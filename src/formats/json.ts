import { EmitError, InputError } from '../errors.js';
import type { Format } from './format.js';
import { isInt64 } from '../sops/values.js';
import type { Comment, ListNode, MapNode, Node, ParsedFile, Scalar } from '../tree.js';

/**
 * JSON as sops reads and writes it (spec §7.2): our own tokenizer, because
 * `JSON.parse` loses duplicate keys and integer precision; Go's output layout
 * (tab indent by default, HTML-safe escaping, one trailing newline).
 */

const MAX_DEPTH = 1000;
const ENC_COMMENT = /^ENC\[AES256_GCM,data:.+,iv:.+,tag:.+,type:comment\]/;

class JsonReader {
  private pos = 0;
  constructor(private readonly text: string, private readonly file?: string) {}

  fail(message: string, at = this.pos): never {
    let line = 1;
    let col = 1;
    for (let i = 0; i < at && i < this.text.length; i++) {
      if (this.text[i] === '\n') {
        line++;
        col = 1;
      } else col++;
    }
    throw new InputError(`invalid JSON at line ${line}, column ${col}: ${message}`, this.file === undefined ? undefined : { file: this.file });
  }

  private ws(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  /** Reads the top-level object; text after it is ignored, as in sops. */
  readDocument(): MapNode {
    this.ws();
    if (this.text[this.pos] !== '{') this.fail('the top level must be an object');
    return this.readValue() as MapNode;
  }

  // Iterative: nesting depth is bounded by MAX_DEPTH, never by the JS stack.
  private readValue(): Node {
    type Frame = { node: MapNode; key?: string } | { node: ListNode };
    const stack: Frame[] = [];
    let result: Node | undefined;
    const attach = (value: Node): boolean => {
      const top = stack[stack.length - 1];
      if (!top) {
        result = value;
        return true;
      }
      if (top.node.kind === 'map') {
        (top.node as MapNode).items.push({ kind: 'entry', key: (top as { key?: string }).key!, value });
      } else {
        const list = top.node as ListNode;
        if (value.kind === 'scalar' && value.type === 'str' && typeof value.value === 'string' && ENC_COMMENT.test(value.value)) {
          list.items.push({ kind: 'comment', text: value.value } satisfies Comment);
        } else list.items.push(value);
      }
      return false;
    };
    for (;;) {
      this.ws();
      const top = stack[stack.length - 1];
      if (top && top.node.kind === 'map') {
        const map = top.node as MapNode;
        if (this.text[this.pos] === '}') {
          this.pos++;
          stack.pop();
          if (attach(map)) return result!;
          continue;
        }
        if (map.items.length > 0) {
          if (this.text[this.pos] !== ',') this.fail("expected ',' or '}'");
          this.pos++;
          this.ws();
        }
        if (this.text[this.pos] !== '"') this.fail('expected a string key');
        (top as { key?: string }).key = this.readString();
        this.ws();
        if (this.text[this.pos] !== ':') this.fail("expected ':'");
        this.pos++;
        this.ws();
      } else if (top && top.node.kind === 'list') {
        const list = top.node as ListNode;
        if (this.text[this.pos] === ']') {
          this.pos++;
          stack.pop();
          if (attach(list)) return result!;
          continue;
        }
        if (list.items.length > 0) {
          if (this.text[this.pos] !== ',') this.fail("expected ',' or ']'");
          this.pos++;
          this.ws();
        }
      }
      const c = this.text[this.pos];
      if (c === '{' || c === '[') {
        if (stack.length >= MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
        this.pos++;
        const node: MapNode | ListNode = c === '{' ? { kind: 'map', items: [] } : { kind: 'list', items: [] };
        stack.push({ node } as Frame);
        continue;
      }
      if (attach(this.readScalar())) return result!;
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
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(t.slice(this.pos, this.pos + 400));
    if (!m) this.fail(this.pos >= t.length ? 'unexpected end of input' : 'unexpected character');
    this.pos += m[0].length;
    if (!m[1] && !m[2]) {
      const v = BigInt(m[0]);
      if (isInt64(v)) return { kind: 'scalar', type: 'int', value: v };
    }
    return { kind: 'scalar', type: 'float', value: Number(m[0]) };
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
      if (c === 0x5c) {
        out += t.slice(chunk, this.pos);
        const e = t[this.pos + 1];
        this.pos += 2;
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            const hex = t.slice(this.pos, this.pos + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape');
            out += String.fromCharCode(parseInt(hex, 16));
            this.pos += 4;
            break;
          }
          default:
            this.fail('bad escape');
        }
        chunk = this.pos;
        continue;
      }
      this.pos++;
    }
  }
}

export function parseJsonDocument(input: Uint8Array, file?: string): MapNode {
  // TextDecoder turns invalid UTF-8 into U+FFFD, as Go does.
  const text = new TextDecoder('utf-8').decode(input).replace(/^\uFEFF/, '');
  return new JsonReader(text, file).readDocument();
}

/** Splits the top-level `sops` member off into metadata. */
export function splitMetadata(doc: MapNode): { document: MapNode; metadata?: MapNode } {
  let metadata: MapNode | undefined;
  const items = doc.items.filter((item) => {
    if (item.kind === 'entry' && item.key === 'sops') {
      if (item.value.kind === 'map') metadata = item.value;
      return false;
    }
    return true;
  });
  return metadata ? { document: { ...doc, items }, metadata } : { document: doc };
}

// Go's json.Marshal escaping: HTML-safe, U+2028/9 escaped, other non-ASCII raw.
export function goJsonString(s: string): string {
  let out = '"';
  let chunk = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c === 0x22) esc = '\\"';
    else if (c === 0x5c) esc = '\\\\';
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) {
      esc = c === 0x0a ? '\\n' : c === 0x0d ? '\\r' : c === 0x09 ? '\\t' : c === 0x08 ? '\\b' : c === 0x0c ? '\\f' : `\\u${c.toString(16).padStart(4, '0')}`;
    }
    if (esc) {
      out += s.slice(chunk, i) + esc;
      chunk = i + 1;
    }
  }
  return out + s.slice(chunk) + '"';
}

function scalarJson(node: Scalar): string {
  const v = node.value;
  switch (node.type) {
    case 'null':
      return 'null';
    case 'bool':
      return v ? 'true' : 'false';
    case 'int':
      return String(v);
    case 'float': {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new EmitError('JSON cannot hold NaN or infinite numbers');
      return Object.is(n, -0) ? '-0' : String(n);
    }
    case 'bytes':
      return goJsonString(Buffer.from(v as Uint8Array).toString('base64'));
    default:
      return goJsonString(v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : String(v));
  }
}

/** Writes a value as Go's json.Indent would lay it out. */
export function formatJsonValue(node: Node, indent?: number): string {
  const unit = indentUnit(indent);
  const parts: string[] = [];
  const write = (n: Node, depth: number): void => {
    if (n.kind === 'scalar') {
      parts.push(scalarJson(n));
      return;
    }
    const pad = '\n' + unit.repeat(depth + 1);
    if (n.kind === 'map') {
      const entries = n.items.filter((i) => i.kind === 'entry');
      if (entries.length === 0) return void parts.push('{}');
      parts.push('{');
      entries.forEach((e, i) => {
        if (e.kind !== 'entry') return;
        parts.push((i ? ',' : '') + pad + goJsonString(e.key) + ': ');
        write(e.value, depth + 1);
      });
      parts.push('\n' + unit.repeat(depth) + '}');
      return;
    }
    const items = n.items.filter((i) => i.kind !== 'comment' || ENC_COMMENT.test(i.text));
    if (items.length === 0) return void parts.push('[]');
    parts.push('[');
    items.forEach((item, i) => {
      parts.push((i ? ',' : '') + pad);
      if (item.kind === 'comment') parts.push(goJsonString(item.text));
      else write(item, depth + 1);
    });
    parts.push('\n' + unit.repeat(depth) + ']');
  };
  write(node, 0);
  return parts.join('');
}

export function indentUnit(indent: number | undefined): string {
  if (indent === undefined || indent === -1) return '\t';
  if (indent < -1) throw new EmitError(`invalid JSON indent ${indent}`);
  return ' '.repeat(indent);
}

export function withMetadata(file: ParsedFile): MapNode {
  const doc = file.documents[0] ?? { kind: 'map', items: [] };
  return file.metadata ? { kind: 'map', items: [...doc.items, { kind: 'entry', key: 'sops', value: file.metadata }] } : doc;
}

export const jsonFormat: Format = {
  name: 'json',
  parse(input, options) {
    const { document, metadata } = splitMetadata(parseJsonDocument(input, options?.file));
    return metadata ? { format: 'json', documents: [document], metadata } : { format: 'json', documents: [document] };
  },
  emit(file, options) {
    if (file.documents.length > 1) throw new EmitError('JSON holds one document; this file has several');
    return Buffer.from(formatJsonValue(withMetadata(file), options?.indent) + '\n', 'utf8');
  },
};

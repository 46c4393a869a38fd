import { EmitError } from '../../errors.js';
import type { Node, Scalar } from '../../tree.js';
import { isStrictEncComment } from '../../enc-string.js';

/**
 * JSON as Go's json.Marshal + json.Indent writes it (docs/format.md#json): HTML-safe
 * escaping, a newline and indent before every member or element, `": "` after
 * keys, empty containers written `{}` / `[]`.
 */

const SHORT_ESCAPES: Record<number, string> = { 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x08: '\\b', 0x0c: '\\f' };

function needsEscape(c: number): boolean {
  return c < 0x20 || c === 0x22 || c === 0x5c || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029 || (c >= 0xd800 && c <= 0xdfff);
}

/** A JSON string literal escaped as Go's json.Marshal escapes it. */
export function goJsonString(s: string): string {
  let out = '"';
  let chunk = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!needsEscape(c)) continue;
    let escaped: string;
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      // A lone surrogate is not valid UTF-8; Go writes the replacement character escaped.
      escaped = '\\ufffd';
    } else if (c === 0x22) escaped = '\\"';
    else if (c === 0x5c) escaped = '\\\\';
    else escaped = SHORT_ESCAPES[c] ?? `\\u${c.toString(16).padStart(4, '0')}`;
    out += s.slice(chunk, i) + escaped;
    chunk = i + 1;
  }
  return out + s.slice(chunk) + '"';
}

/** One scalar as a JSON token. */
export function scalarJson(node: Scalar): string {
  const v = node.value;
  switch (node.type) {
    case 'null':
      return 'null';
    case 'bool':
      return v ? 'true' : 'false';
    case 'int':
      return typeof v === 'bigint' ? v.toString() : String(v);
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

/** The indent unit for an `--indent` / store setting: -1 or undefined is a tab, N >= 0 is N spaces. */
export function indentUnit(indent: number | undefined): string {
  if (indent === undefined || indent === -1) return '\t';
  if (!Number.isInteger(indent) || indent < -1) throw new EmitError(`invalid JSON indent ${indent}`);
  return ' '.repeat(indent);
}

/**
 * Renders a value with `unit` per nesting level; `prefix` starts every line
 * after the first (json.Indent's prefix), so a value can be placed at depth.
 */
export function renderJson(node: Node, unit: string, prefix = '', newline = '\n'): string {
  const parts: string[] = [];
  const write = (n: Node, depth: number): void => {
    if (n.kind === 'scalar') {
      parts.push(scalarJson(n));
      return;
    }
    const inner = newline + prefix + unit.repeat(depth + 1);
    const outer = newline + prefix + unit.repeat(depth);
    if (n.kind === 'map') {
      let count = 0;
      for (const item of n.items) {
        if (item.kind !== 'entry') continue;
        parts.push(count++ === 0 ? '{' + inner : ',' + inner, goJsonString(item.key), ': ');
        write(item.value, depth + 1);
      }
      parts.push(count === 0 ? '{}' : outer + '}');
      return;
    }
    let count = 0;
    for (const item of n.items) {
      if (item.kind === 'comment' && !isStrictEncComment(item.text)) continue;
      parts.push(count++ === 0 ? '[' + inner : ',' + inner);
      if (item.kind === 'comment') parts.push(goJsonString(item.text));
      else write(item, depth + 1);
    }
    parts.push(count === 0 ? '[]' : outer + ']');
  };
  write(node, 0);
  return parts.join('');
}

/** A value as Go's json.Indent lays it out (no trailing newline). */
export function formatJsonValue(node: Node, indent?: number): string {
  return renderJson(node, indentUnit(indent));
}

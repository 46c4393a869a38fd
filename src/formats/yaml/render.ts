import { EmitError } from '../../errors.js';
import type { Scalar } from '../../tree.js';
import { resolvePlain, UnrepresentableError } from './resolve.js';

export interface ScalarContext {
  /** Column where the owning key or sequence dash starts; block content goes deeper. */
  indent: number;
  /** Spaces per nesting level for block content. */
  step: number;
  inFlow: boolean;
}

/** A rendered scalar: `block` text spans lines and must end its line (`|` header first). */
export interface Rendered {
  text: string;
  block: boolean;
}

const INDICATORS = new Set([...'-?:,[]{}#&*!|>\'"%@`']);
// Strings YAML 1.1 readers would take as booleans; quoting them costs nothing.
const YAML11_BOOLS = /^(yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$/;

function resolvesAsString(s: string): boolean {
  try {
    return resolvePlain(s).type === 'str';
  } catch (e) {
    if (e instanceof UnrepresentableError) return false;
    throw e;
  }
}

export function canBePlain(s: string, inFlow: boolean): boolean {
  if (s === '' || s !== s.trim() || /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/.test(s)) return false;
  if (INDICATORS.has(s[0]!) && !(s.length > 1 && '-?:'.includes(s[0]!) && s[1] !== ' ' && !(s[0] === '-' && s.startsWith('---')))) return false;
  if (s.includes(': ') || s.includes(' #') || s.endsWith(':')) return false;
  if (inFlow && /[,[\]{}]/.test(s)) return false;
  if (YAML11_BOOLS.test(s)) return false;
  return resolvesAsString(s);
}

export function doubleQuoted(s: string): string {
  return '"' + s.replace(/[\\"\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/g, (c) => {
    switch (c) {
      case '\\': return '\\\\';
      case '"': return '\\"';
      case '\n': return '\\n';
      case '\t': return '\\t';
      case '\r': return '\\r';
      default: return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  }) + '"';
}

export function renderKey(key: string): string {
  return canBePlain(key, false) ? key : doubleQuoted(key);
}

function floatText(v: number): string {
  if (Number.isNaN(v)) return '.nan';
  if (v === Infinity) return '.inf';
  if (v === -Infinity) return '-.inf';
  const s = String(v);
  // Must read back as a float, not an int.
  return /^-?\d+$/.test(s) ? `${s}.0` : s;
}

export function renderScalar(node: Scalar, ctx: ScalarContext): Rendered {
  const v = node.value;
  switch (node.type) {
    case 'null':
      return { text: 'null', block: false };
    case 'bool':
      return { text: v ? 'true' : 'false', block: false };
    case 'int':
      return { text: String(v), block: false };
    case 'float':
      return { text: floatText(Number(v)), block: false };
    case 'time':
      return { text: String(v), block: false };
    case 'bytes':
      return { text: `!!binary ${Buffer.from(v as Uint8Array).toString('base64')}`, block: false };
    case 'str': {
      const s = v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : String(v);
      if (canBePlain(s, ctx.inFlow)) return { text: s, block: false };
      if (!ctx.inFlow && s.includes('\n') && !/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff\r]/.test(s)) {
        return { text: literalBlock(s, ctx), block: true };
      }
      return { text: doubleQuoted(s), block: false };
    }
  }
  throw new EmitError(`cannot write a ${String(node.type)} value as YAML`);
}

/** `|`, `|-` or `|+` by trailing newlines; an indentation indicator when the text starts with a space. */
function literalBlock(s: string, ctx: ScalarContext): string {
  const trailing = /\n*$/.exec(s)![0].length;
  const chomp = trailing === 0 ? '-' : trailing === 1 ? '' : '+';
  const body = trailing === 0 ? s : s.slice(0, s.length - (trailing === 1 ? 1 : 0));
  // The next multiple of the step past the owner's column, as go-yaml lays it out.
  const contentIndent = Math.floor(ctx.indent / ctx.step) * ctx.step + ctx.step;
  const pad = ' '.repeat(contentIndent);
  const indicator = /^[ \n]/.test(body) ? String(contentIndent - ctx.indent) : '';
  const lines = body.split('\n');
  if (trailing > 1) lines.pop();
  return `|${indicator}${chomp}\n` + lines.map((l) => (l === '' ? '' : pad + l)).join('\n');
}

import { EmitError } from '../../errors.js';
import type { Scalar } from '../../tree.js';
import { resolvePlain, UnrepresentableError } from './resolve.js';

export interface ScalarContext {
  /** Column of the owning key or sequence dash; block content goes deeper. */
  indent: number;
  /** Spaces per nesting level for block content. */
  step: number;
  inFlow: boolean;
  /** Column for a block scalar's body, when it should keep an existing one. */
  contentIndent?: number;
}

/** A rendered scalar. `block` text is a `|` header, then `\n`, then the indented body (no final newline). */
export interface Rendered {
  text: string;
  block: boolean;
}

// go-yaml quotes strings that YAML 1.1 readers would take as booleans or base-60 numbers.
const YAML11_BOOL = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;
const BASE60 = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
// libyaml's "printable" set, minus the line break; anything else forces double quotes.
const UNPRINTABLE = /[^\n\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\ud800-\udfff]/;

function looksLikeOtherType(s: string): boolean {
  if (YAML11_BOOL.test(s) || BASE60.test(s)) return true;
  try {
    return resolvePlain(s).type !== 'str';
  } catch (e) {
    if (e instanceof UnrepresentableError) return true;
    throw e;
  }
}

const isBlank = (ch: string | undefined): boolean => ch === undefined || ch === ' ' || ch === '\t' || ch === '\n';

/** libyaml's scalar analysis: may this text be written plain (in flow or block context)? */
export function plainAllowed(s: string, inFlow: boolean): boolean {
  if (s === '' || s.startsWith('---') || s.startsWith('...')) return false;
  if (s.includes('\n') || /^[ \t]|[ \t]$/.test(s)) return false;
  const first = s[0]!;
  if ('#,[]{}&*!|>\'"%@`'.includes(first)) return false;
  if ((first === '?' || first === ':' || first === '-') && isBlank(s[1])) return false;
  if (inFlow && (first === '?' || first === ':')) return false;
  for (let i = 1; i < s.length; i++) {
    const ch = s[i]!;
    if (inFlow && ',?[]{}'.includes(ch)) return false;
    if (ch === ':' && (inFlow || isBlank(s[i + 1]))) return false;
    if (ch === '#' && isBlank(s[i - 1])) return false;
  }
  return true;
}

export function doubleQuoted(s: string): string {
  return '"' + s.replace(/[\\"\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/g, (c) => {
    switch (c) {
      case '\\': return '\\\\';
      case '"': return '\\"';
      case '\n': return '\\n';
      case '\t': return '\\t';
      case '\r': return '\\r';
      case '\0': return '\\0';
      default: return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  }) + '"';
}

/**
 * A string as go-yaml writes it: double quotes when plain text would read back
 * as another type or holds unprintable characters, plain when YAML allows it,
 * single quotes otherwise. Multi-line text is the caller's business.
 */
export function quoteString(s: string, inFlow: boolean): string {
  if (UNPRINTABLE.test(s) || s.includes('\n') || looksLikeOtherType(s)) return doubleQuoted(s);
  return quoteTaggedString(s, inFlow);
}

/** A string after an application tag (`!reset null`): the tag, not the text, gives its type, so text like `null` stays plain. */
export function quoteTaggedString(s: string, inFlow: boolean): string {
  if (UNPRINTABLE.test(s) || s.includes('\n')) return doubleQuoted(s);
  if (plainAllowed(s, inFlow)) return s;
  return `'${s.replace(/'/g, "''")}'`;
}

export function renderKey(key: string): string {
  return quoteString(key, false);
}

/**
 * go-yaml's float text (Go `%g`, shortest digits), with `.0` added where the
 * result would otherwise read back as an integer.
 */
export function floatText(v: number): string {
  if (Number.isNaN(v)) return '.nan';
  if (v === Infinity) return '.inf';
  if (v === -Infinity) return '-.inf';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = v.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  let out: string;
  if (exp < -4 || exp >= 6) {
    out = `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else {
    out = String(v);
  }
  return /^-?\d+$/.test(out) ? `${out}.0` : out;
}

function stringOf(v: Scalar['value']): string {
  return v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : String(v);
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
      const s = stringOf(v);
      if (!ctx.inFlow && s.includes('\n') && !UNPRINTABLE.test(s) && !/[\r\u0085\u2028\u2029]/.test(s)) {
        return { text: literalBlock(s, ctx), block: true };
      }
      return { text: quoteString(s, ctx.inFlow), block: false };
    }
  }
  throw new EmitError(`cannot write a ${String(node.type)} value as YAML`);
}

/** Column of a block scalar's body: the next multiple of the step past the owner's column, as go-yaml lays it out. */
export function blockContentIndent(ctx: ScalarContext): number {
  if (ctx.contentIndent !== undefined && ctx.contentIndent > ctx.indent) return ctx.contentIndent;
  return Math.floor(ctx.indent / ctx.step) * ctx.step + ctx.step;
}

/** `|`, `|-` or `|+` by trailing newlines; an indentation indicator when the text starts with a space or newline. */
function literalBlock(s: string, ctx: ScalarContext): string {
  let trailing = 0;
  while (trailing < s.length && s.charCodeAt(s.length - 1 - trailing) === 10) trailing++;
  const chomp = trailing === 0 ? '-' : trailing === 1 ? '' : '+';
  const contentIndent = blockContentIndent(ctx);
  const pad = ' '.repeat(contentIndent);
  const indicator = /^[ \n]/.test(s) ? String(Math.min(9, contentIndent - ctx.indent)) : '';
  // Each line of the text, the last one's newline belongs to the header's chomping.
  const lines = (trailing === 0 ? s : s.slice(0, -1)).split('\n');
  return `|${indicator}${chomp}\n` + lines.map((l) => (l === '' ? '' : pad + l)).join('\n');
}

import { isInt64 } from '../../sops/values.js';
import type { ScalarType, ScalarValue } from '../../tree.js';

/**
 * How go-yaml v3 (and so sops) types a plain scalar (spec §7.1): YAML 1.2 core
 * booleans and nulls, Go base prefixes and `_` in integers, and timestamps.
 */
export interface Resolved {
  type: ScalarType;
  value: ScalarValue;
}

const INT = /^[-+]?(?:0b[01]+|0o[0-7]+|0x[0-9a-fA-F]+|[0-9]+)$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const TIMESTAMP = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:[Tt]|[ \t]+)(\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?(?:[ \t]*(Z|[-+]\d{1,2}(?::?\d{2})?))?)?$/;

export class UnrepresentableError extends Error {}

export function resolvePlain(text: string): Resolved {
  switch (text) {
    case '':
    case '~':
    case 'null':
    case 'Null':
    case 'NULL':
      return { type: 'null', value: null };
    case 'true':
    case 'True':
    case 'TRUE':
      return { type: 'bool', value: true };
    case 'false':
    case 'False':
    case 'FALSE':
      return { type: 'bool', value: false };
  }
  const c = text[0]!;
  if ((c >= '0' && c <= '9') || c === '-' || c === '+' || c === '.') {
    const digits = text.replace(/_/g, '');
    if (INT.test(digits)) {
      const v = parseGoInt(digits);
      if (v !== undefined) {
        if (!isInt64(v)) throw new UnrepresentableError('integer out of the int64 range');
        return { type: 'int', value: v };
      }
    }
    if (FLOAT.test(digits)) return { type: 'float', value: Number(digits) };
    const special = /^([-+]?)\.(inf|Inf|INF)$/.exec(text);
    if (special) return { type: 'float', value: special[1] === '-' ? -Infinity : Infinity };
    if (/^\.(nan|NaN|NAN)$/.test(text)) return { type: 'float', value: NaN };
    const time = timestamp(text);
    if (time) return { type: 'time', value: time };
  }
  return { type: 'str', value: text };
}

/** Go `strconv.ParseInt(s, 0, 64)`: 0x, 0o, 0b and a leading 0 for octal. */
function parseGoInt(s: string): bigint | undefined {
  const negative = s.startsWith('-');
  const body = s.replace(/^[-+]/, '');
  let v: bigint;
  if (/^0[xX]/.test(body)) v = BigInt(body);
  else if (/^0[oO]/.test(body)) v = BigInt('0o' + body.slice(2));
  else if (/^0[bB]/.test(body)) v = BigInt(body);
  else if (body.length > 1 && body.startsWith('0')) {
    if (!/^[0-7]+$/.test(body)) return undefined;
    v = BigInt('0o' + body.slice(1));
  } else v = BigInt(body);
  return negative ? -v : v;
}

/** A YAML timestamp as Go's RFC3339Nano prints the parsed time; undefined when it is none. */
export function timestamp(text: string): string | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const two = (x: string | undefined): string => (x ?? '0').padStart(2, '0');
  const date = `${y}-${two(mo)}-${two(d)}`;
  if (Number.isNaN(Date.parse(`${date}T00:00:00Z`))) return undefined;
  if (h === undefined) return `${date}T00:00:00Z`;
  const fraction = frac ? frac.replace(/0+$/, '') : '';
  let offset = 'Z';
  if (zone && zone !== 'Z') {
    const zm = /^([-+])(\d{1,2}):?(\d{2})?$/.exec(zone)!;
    const hh = zm[2]!.padStart(2, '0');
    const mm = zm[3] ?? '00';
    offset = hh === '00' && mm === '00' ? 'Z' : `${zm[1]}${hh}:${mm}`;
  }
  return `${date}T${two(h)}:${two(mi)}:${two(s)}${fraction === '.' ? '' : fraction}${offset}`;
}

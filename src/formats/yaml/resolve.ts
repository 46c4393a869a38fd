import { isInt64 } from '../../values.js';
import type { ScalarType, ScalarValue } from '../../tree.js';

/**
 * How go-yaml v3 (and so sops) types a plain scalar (docs/format.md#yaml): YAML 1.2 core
 * booleans and nulls, Go base prefixes and `_` in integers, and timestamps.
 */
export interface Resolved {
  type: ScalarType;
  value: ScalarValue;
}

/** A plain scalar that go-yaml reads as a number sops cannot hold (beyond int64). */
export class UnrepresentableError extends Error {}

const INT = /^[-+]?(?:0[bB][01]+|0[oO][0-7]+|0[xX][0-9a-fA-F]+|[0-9]+)$/;
// go-yaml's yamlStyleFloat, tried on the text with `_` removed.
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
// What Go's strconv.ParseFloat takes for a text starting with `.` (no `_` there).
const DOT_FLOAT = /^\.[0-9]+(?:[eE][-+]?[0-9]+)?$/;

const FIXED: Record<string, Resolved> = {
  '': { type: 'null', value: null },
  '~': { type: 'null', value: null },
  null: { type: 'null', value: null },
  Null: { type: 'null', value: null },
  NULL: { type: 'null', value: null },
  true: { type: 'bool', value: true },
  True: { type: 'bool', value: true },
  TRUE: { type: 'bool', value: true },
  false: { type: 'bool', value: false },
  False: { type: 'bool', value: false },
  FALSE: { type: 'bool', value: false },
  '.inf': { type: 'float', value: Infinity },
  '.Inf': { type: 'float', value: Infinity },
  '.INF': { type: 'float', value: Infinity },
  '+.inf': { type: 'float', value: Infinity },
  '+.Inf': { type: 'float', value: Infinity },
  '+.INF': { type: 'float', value: Infinity },
  '-.inf': { type: 'float', value: -Infinity },
  '-.Inf': { type: 'float', value: -Infinity },
  '-.INF': { type: 'float', value: -Infinity },
  '.nan': { type: 'float', value: NaN },
  '.NaN': { type: 'float', value: NaN },
  '.NAN': { type: 'float', value: NaN },
};

/** The type and value go-yaml gives an untagged plain scalar. Throws {@link UnrepresentableError} past int64. */
export function resolvePlain(text: string): Resolved {
  const fixed = Object.hasOwn(FIXED, text) ? FIXED[text] : undefined;
  if (fixed) return { ...fixed };
  const c = text.charCodeAt(0);
  if (c === 0x2e /* . */) {
    return DOT_FLOAT.test(text) ? { type: 'float', value: Number(text) } : { type: 'str', value: text };
  }
  const digit = c >= 0x30 && c <= 0x39;
  if (!digit && c !== 0x2b && c !== 0x2d) return { type: 'str', value: text };
  if (digit) {
    const time = timestamp(text);
    if (time) return { type: 'time', value: time };
  }
  const plain = text.includes('_') ? text.replace(/_/g, '') : text;
  if (INT.test(plain)) {
    const v = parseGoInt(plain);
    if (v !== undefined) {
      if (!isInt64(v)) throw new UnrepresentableError('integer out of the int64 range');
      return { type: 'int', value: v };
    }
  }
  if (FLOAT.test(plain)) return { type: 'float', value: Number(plain) };
  return { type: 'str', value: text };
}

/** Go `strconv.ParseInt(s, 0, 64)` without the range check: 0x, 0o, 0b and a leading 0 for octal. */
function parseGoInt(s: string): bigint | undefined {
  const negative = s.startsWith('-');
  const body = s.replace(/^[-+]/, '');
  let v: bigint;
  const prefix = body.slice(0, 2).toLowerCase();
  if (prefix === '0x' || prefix === '0b' || prefix === '0o') v = BigInt('0' + prefix[1] + body.slice(2));
  else if (body.length > 1 && body.startsWith('0')) {
    // `08` is no octal number: go-yaml then reads it as the float 8.
    if (!/^[0-7]+$/.test(body)) return undefined;
    v = BigInt('0o' + body.slice(1));
  } else v = BigInt(body);
  return negative ? -v : v;
}

// go-yaml tries Go layouts `2006-1-2T15:4:5.999999999Z07:00` (T or t), `2006-1-2 15:4:5.999999999` and `2006-1-2`.
const DATE_TIME = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:([Tt])(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?(Z|[-+]\d{2}:\d{2})| (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?)?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** A YAML timestamp as Go's RFC3339Nano prints the parsed time; undefined when go-yaml would not read one. */
export function timestamp(text: string): string | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  const two = (n: number): string => String(n).padStart(2, '0');
  const date = `${m[1]}-${two(month)}-${two(day)}`;
  const withZone = m[4] !== undefined;
  if (!withZone && m[10] === undefined) return `${date}T00:00:00Z`;
  const [h, mi, s, frac] = withZone ? [m[5], m[6], m[7], m[8]] : [m[10], m[11], m[12], m[13]];
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  // Go keeps nanoseconds (9 digits) and prints them without trailing zeros.
  const fraction = (frac ?? '').slice(0, 9).replace(/0+$/, '');
  let zone = 'Z';
  if (withZone && m[9] !== 'Z') {
    const [zh, zm] = m[9]!.slice(1).split(':').map(Number) as [number, number];
    if (zh > 24 || zm > 59) return undefined;
    if (zh !== 0 || zm !== 0) zone = m[9]!;
  }
  return `${date}T${two(hour)}:${two(minute)}:${two(second)}${fraction ? '.' + fraction : ''}${zone}`;
}

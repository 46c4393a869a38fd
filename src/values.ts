import type { Scalar, ScalarType, ScalarValue } from './tree.js';

/**
 * How each value type becomes the bytes that are encrypted and hashed into the
 * MAC, and back (docs/format.md#type-tags). Everything here mirrors Go's formatting so that a
 * value written by tsops reads back in sops as the same typed value.
 */

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export function isInt64(v: bigint): boolean {
  return v >= INT64_MIN && v <= INT64_MAX;
}

export function plaintextBytes(node: Scalar): Buffer {
  const v = node.value;
  switch (node.type) {
    case 'str':
    case 'bytes':
      return v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(String(v), 'utf8');
    case 'int':
      return Buffer.from(typeof v === 'bigint' ? v.toString() : String(v), 'utf8');
    case 'float':
      return Buffer.from(formatGoFloat(Number(v)), 'utf8');
    case 'bool':
      return Buffer.from(v ? 'True' : 'False', 'utf8');
    case 'time':
      return Buffer.from(String(v), 'utf8');
    case 'null':
      return Buffer.alloc(0);
  }
}

/** The sops type tag a scalar is stored under. */
export function encType(node: Scalar): string {
  return node.type === 'null' ? 'str' : node.type;
}

export class ValueFormatError extends Error {}

/** Parses decrypted bytes back into a typed scalar, as Go's strconv would. */
export function scalarFromPlaintext(bytes: Buffer, type: string, keepBytes: boolean): { type: ScalarType; value: ScalarValue } {
  switch (type) {
    case 'str':
      return { type: 'str', value: keepBytes ? new Uint8Array(bytes) : bytes.toString('utf8') };
    case 'bytes':
      return { type: 'bytes', value: new Uint8Array(bytes) };
    case 'int': {
      const text = bytes.toString('utf8');
      if (!/^[+-]?[0-9]+$/.test(text)) throw new ValueFormatError('int value is not a decimal integer');
      const v = BigInt(text);
      if (!isInt64(v)) throw new ValueFormatError('int value out of int64 range');
      return { type: 'int', value: v };
    }
    case 'float':
      return { type: 'float', value: parseGoFloat(bytes.toString('utf8')) };
    case 'bool':
      return { type: 'bool', value: parseGoBool(bytes.toString('utf8')) };
    case 'time':
      return { type: 'time', value: normalizeRfc3339(bytes.toString('utf8')) };
    default:
      throw new ValueFormatError(`unknown value type '${type.slice(0, 20)}'`);
  }
}

export function parseGoBool(text: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  throw new ValueFormatError('bool value is not a boolean');
}

export function parseGoFloat(text: string): number {
  const t = text.replace(/_/g, '');
  const lower = t.toLowerCase();
  if (/^[+]?(inf|infinity)$/.test(lower)) return Infinity;
  if (/^-(inf|infinity)$/.test(lower)) return -Infinity;
  if (lower === 'nan') return NaN;
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return Number(t);
  if (/^[+-]?0x[0-9a-f]+$/i.test(t)) return Number(t.startsWith('-') ? -Number(t.slice(1)) : Number(t.replace(/^\+/, '')));
  throw new ValueFormatError('float value is not a number');
}

/** Go `strconv.FormatFloat(v, 'f', -1, 64)`: shortest round-trip digits, never an exponent. */
export function formatGoFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Object.is(v, -0)) return '-0';
  const s = String(v);
  const e = s.indexOf('e');
  if (e < 0) return s;
  return expandExponent(s.slice(0, e), Number(s.slice(e + 1)));
}

function expandExponent(mantissa: string, exp: number): string {
  const negative = mantissa.startsWith('-');
  const m = negative ? mantissa.slice(1) : mantissa;
  const dot = m.indexOf('.');
  const digits = m.replace('.', '');
  let point = (dot < 0 ? m.length : dot) + exp;
  let out: string;
  if (point <= 0) out = '0.' + '0'.repeat(-point) + digits;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = digits.slice(0, point) + '.' + digits.slice(point);
  return (negative ? '-' : '') + out;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Go's RFC3339Nano rendering of a parsed RFC 3339 time: offset kept, fraction without trailing zeros. */
export function normalizeRfc3339(text: string): string {
  const m = RFC3339.exec(text);
  if (!m) throw new ValueFormatError('time value is not RFC 3339');
  const [, y, mo, d, h, mi, s, frac, zone] = m as unknown as string[];
  const fraction = frac ? frac.replace(/0+$/, '') : '';
  const z = isZeroOffset(zone!) ? 'Z' : zone;
  return `${y}-${mo}-${d}T${h}:${mi}:${s}${fraction === '.' ? '' : fraction}${z}`;
}

/** RFC 3339 without fractional seconds, `Z` for UTC: the MAC's additional data (docs/format.md#additional-data). */
export function macTimestamp(text: string): string {
  const m = RFC3339.exec(text);
  if (!m) throw new ValueFormatError('lastmodified is not RFC 3339');
  const date = new Date(text.replace(/t/, 'T').replace(/z$/, 'Z'));
  if (Number.isNaN(date.getTime())) throw new ValueFormatError('lastmodified is not a valid time');
  const zone = m[8]!;
  if (isZeroOffset(zone)) return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${zone}`;
}

// Go's `Z07:00` layout prints a zero offset as `Z`.
function isZeroOffset(zone: string): boolean {
  return zone.toUpperCase() === 'Z' || zone === '+00:00' || zone === '-00:00';
}

/** Now, UTC, whole seconds: what sops writes as `lastmodified` and `created_at`. */
export function nowTimestamp(now: Date = new Date()): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Go `%G` with the shortest digits, as sops's ValToString writes floats, `.0` added to integral results. */
export function formatGoFloatG(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = v.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  let out: string;
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? '-' : '+';
    out = `${mantissa}E${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else {
    out = formatGoFloat(v);
  }
  return /^-?\d+$/.test(out) ? `${out}.0` : out;
}

/**
 * sops's ValToString: how a non-string value is written where only text fits
 * (dotenv values, environment variables).
 */
export function valueToString(node: Scalar): string {
  const v = node.value;
  switch (node.type) {
    case 'bool':
      return v ? 'true' : 'false';
    case 'int':
      return String(v);
    case 'float':
      return formatGoFloatG(Number(v));
    case 'null':
      return '';
    default:
      return v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : String(v);
  }
}

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatGoFloat, macTimestamp, normalizeRfc3339, parseGoBool, parseGoFloat, plaintextBytes, scalarFromPlaintext } from '../../src/values.js';
import { scalar } from '../../src/tree.js';

describe('value serialisation (Go-compatible)', () => {
  it.each([
    [1234568000, '1234568000'],
    [1e-7, '0.0000001'],
    [1e21, '1000000000000000000000'],
    [1.5e300, '15' + '0'.repeat(299)],
    [1, '1'],
    [-0, '-0'],
    [0.1, '0.1'],
    [-2.5e-8, '-0.000000025'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
  ])('formats float %s as %s', (v, text) => {
    expect(formatGoFloat(v)).toBe(text);
  });

  it('float formatting round-trips every finite double', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
      const text = formatGoFloat(v);
      expect(text).not.toMatch(/e/i);
      expect(Object.is(parseGoFloat(text), v) || (v === 0 && parseGoFloat(text) === 0)).toBe(true);
    }));
  });

  it('writes bools title-case and reads every Go spelling', () => {
    expect(plaintextBytes(scalar('bool', true)).toString()).toBe('True');
    expect(plaintextBytes(scalar('bool', false)).toString()).toBe('False');
    for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) expect(parseGoBool(t)).toBe(true);
    for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) expect(parseGoBool(f)).toBe(false);
    expect(() => parseGoBool('yes')).toThrow();
  });

  it('keeps int64 exact and refuses anything else', () => {
    expect(scalarFromPlaintext(Buffer.from('9223372036854775807'), 'int', false)).toEqual({ type: 'int', value: 9223372036854775807n });
    expect(scalarFromPlaintext(Buffer.from('-9223372036854775808'), 'int', false).value).toBe(-9223372036854775808n);
    expect(() => scalarFromPlaintext(Buffer.from('9223372036854775808'), 'int', false)).toThrow(/range/);
    expect(() => scalarFromPlaintext(Buffer.from('0x10'), 'int', false)).toThrow();
    expect(plaintextBytes(scalar('int', -42n)).toString()).toBe('-42');
  });

  it('normalises times as Go RFC3339Nano and MAC timestamps without fractions', () => {
    expect(normalizeRfc3339('2024-01-01T00:00:00.500Z')).toBe('2024-01-01T00:00:00.5Z');
    expect(normalizeRfc3339('2006-01-02T15:04:05+07:06')).toBe('2006-01-02T15:04:05+07:06');
    expect(normalizeRfc3339('2024-01-01T00:00:00+00:00')).toBe('2024-01-01T00:00:00Z');
    expect(macTimestamp('2026-05-22T20:16:23.123456Z')).toBe('2026-05-22T20:16:23Z');
    expect(macTimestamp('2026-05-22T20:16:23+00:00')).toBe('2026-05-22T20:16:23Z');
    expect(() => macTimestamp('yesterday')).toThrow();
  });

  it('rejects unknown types', () => {
    expect(() => scalarFromPlaintext(Buffer.from('x'), 'weird', false)).toThrow(/unknown value type/);
  });
});

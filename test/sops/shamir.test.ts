import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { combine, gfDiv, gfInverse, gfMul, split } from '../../src/sops/shamir.js';
import { MalformedFileError, TsopsError } from '../../src/errors.js';

/** Carry-less multiplication reduced by 0x11B, bit by bit: the definition the tables must agree with. */
function slowMul(a: number, b: number): number {
  let product = 0;
  for (let i = 0; i < 8; i++) {
    if ((b >> i) & 1) product ^= a << i;
  }
  for (let bit = 14; bit >= 8; bit--) {
    if ((product >> bit) & 1) product ^= 0x11b << (bit - 8);
  }
  return product;
}

const byte = fc.integer({ min: 0, max: 255 });
const nonZero = fc.integer({ min: 1, max: 255 });

describe('GF(2^8) with the AES polynomial', () => {
  it('multiplies as the bitwise definition does, for every pair', () => {
    for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b++) expect(gfMul(a, b)).toBe(slowMul(a, b));
  });

  it('matches the FIPS-197 example {57}·{83} = {c1}', () => {
    expect(gfMul(0x57, 0x83)).toBe(0xc1);
    expect(gfMul(0x57, 0x13)).toBe(0xfe);
  });

  it('gives every non-zero element an inverse, and zero none', () => {
    for (let a = 1; a < 256; a++) expect(gfMul(a, gfInverse(a))).toBe(1);
    expect(() => gfInverse(0)).toThrow(RangeError);
    expect(gfInverse(0x53)).toBe(0xca);
  });

  it('is commutative, associative and distributive over XOR', () => {
    fc.assert(
      fc.property(byte, byte, byte, (a, b, c) => {
        expect(gfMul(a, b)).toBe(gfMul(b, a));
        expect(gfMul(gfMul(a, b), c)).toBe(gfMul(a, gfMul(b, c)));
        expect(gfMul(a, b ^ c)).toBe(gfMul(a, b) ^ gfMul(a, c));
      }),
    );
  });

  it('undoes multiplication by division', () => {
    fc.assert(
      fc.property(byte, nonZero, (a, b) => {
        expect(gfDiv(gfMul(a, b), b)).toBe(a);
      }),
    );
  });
});

describe('combine on hand-built shares', () => {
  it('recovers b from y = b XOR c·x (threshold 2, a fixed line)', () => {
    const secret = [0x00, 0x42, 0xff, 0x10];
    const coefficient = [0x01, 0x9d, 0x00, 0xe3];
    const share = (x: number): Uint8Array => Uint8Array.from([...secret.map((b, j) => b ^ gfMul(coefficient[j]!, x)), x]);
    expect(Array.from(combine([share(1), share(2)]))).toEqual(secret);
    expect(Array.from(combine([share(7), share(200)]))).toEqual(secret);
    expect(Array.from(combine([share(3), share(1), share(255)]))).toEqual(secret);
  });

  it('recovers the constant term of a fixed quadratic (threshold 3)', () => {
    // P(x) = 0xab + 0x12·x + 0x34·x², one byte.
    const p = (x: number): number => 0xab ^ gfMul(0x12, x) ^ gfMul(0x34, gfMul(x, x));
    const shares = [2, 5, 9].map((x) => Uint8Array.from([p(x), x]));
    expect(Array.from(combine(shares))).toEqual([0xab]);
    // Two points of a quadratic give the line through them, not the secret.
    expect(Array.from(combine(shares.slice(0, 2)))).not.toEqual([0xab]);
  });

  it('puts x = i + 1 in the last byte and keeps y beside it', () => {
    const shares = split(new Uint8Array(32).fill(7), 5, 3);
    expect(shares.map((s) => s.length)).toEqual([33, 33, 33, 33, 33]);
    expect(shares.map((s) => s[32])).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('split and combine', () => {
  const setup = fc
    .record({
      secret: fc.uint8Array({ minLength: 1, maxLength: 40 }),
      threshold: fc.integer({ min: 2, max: 8 }),
      extra: fc.integer({ min: 0, max: 4 }),
    })
    .chain(({ secret, threshold, extra }) =>
      fc.record({
        secret: fc.constant(secret),
        threshold: fc.constant(threshold),
        parts: fc.constant(threshold + extra),
        order: fc.shuffledSubarray([...Array(threshold + extra).keys()], { minLength: threshold + extra, maxLength: threshold + extra }),
      }),
    );

  it('recovers the secret from any threshold-sized subset, in any order', () => {
    fc.assert(
      fc.property(setup, ({ secret, threshold, parts, order }) => {
        const shares = split(secret, parts, threshold);
        expect(combine(order.slice(0, threshold).map((i) => shares[i]!))).toEqual(secret);
        expect(combine(order.map((i) => shares[i]!))).toEqual(secret);
      }),
    );
  });

  it('gives something else from fewer shares than the threshold', () => {
    const secret = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 10 }), (threshold) => {
        const shares = split(secret, threshold, threshold);
        // 32 random bytes all matching by chance has probability 2^-256.
        expect(combine(shares.slice(0, threshold - 1))).not.toEqual(secret);
      }),
      { numRuns: 20 },
    );
  });

  it('makes different shares each time (random coefficients)', () => {
    const secret = new Uint8Array(32);
    expect(split(secret, 2, 2)[0]).not.toEqual(split(secret, 2, 2)[0]);
  });

  it('works at the limits: 255 parts, threshold 255', () => {
    const secret = Uint8Array.from([1, 2, 3]);
    const shares = split(secret, 255, 255);
    expect(shares[254]![3]).toBe(255);
    expect(combine(shares)).toEqual(secret);
  });
});

describe('validation', () => {
  const secret = new Uint8Array(32).fill(1);
  it.each([
    [3, 1, /threshold must be 2 to 255/],
    [3, 0, /threshold must be 2 to 255/],
    [300, 256, /threshold must be 2 to 255/],
    [2, 3, /cannot be fewer than the threshold/],
    [256, 3, /at most 255/],
    [3, 2.5, /threshold must be 2 to 255/],
  ])('split(parts %s, threshold %s) is refused', (parts, threshold, message) => {
    expect(() => split(secret, parts, threshold)).toThrow(TsopsError);
    expect(() => split(secret, parts, threshold)).toThrow(message);
  });

  it('refuses to split an empty secret', () => {
    expect(() => split(new Uint8Array(0), 3, 2)).toThrow(/empty secret/);
  });

  it('refuses bad share sets', () => {
    const [a, b, c] = split(secret, 3, 2);
    expect(() => combine([])).toThrow(MalformedFileError);
    expect(() => combine([a!])).toThrow(/at least two shares/);
    expect(() => combine([a!, b!.subarray(1)])).toThrow(/same length/);
    expect(() => combine([a!, Uint8Array.from(a!)])).toThrow(/same x/);
    expect(() => combine([Uint8Array.of(1), Uint8Array.of(2)])).toThrow(/too short/);
    const zeroX = Uint8Array.from(c!);
    zeroX[32] = 0;
    expect(() => combine([a!, zeroX])).toThrow(/x = 0/);
  });
});

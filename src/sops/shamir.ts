import { randomBytes } from 'node:crypto';
import { MalformedFileError, TsopsError } from '../errors.js';

/**
 * Shamir secret sharing over GF(2^8) with the AES polynomial 0x11B, in the
 * share layout sops uses (HashiCorp Vault's): the y bytes, then one x byte.
 * The random coefficients are not part of the format, so any correct
 * implementation of this layout interoperates (docs/format.md#key-groups).
 */

const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
(() => {
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    // Multiply by the generator 3 (= x*2 XOR x), reducing by 0x11B.
    let doubled = x << 1;
    if (doubled & 0x100) doubled ^= 0x11b;
    x = doubled ^ x;
  }
  // Doubled so that EXP[LOG[a] + LOG[b]] needs no modulo.
  for (let i = 255; i < 510; i++) EXP[i] = EXP[i - 255]!;
})();

export function gfMul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[LOG[a]! + LOG[b]!]!;
}

export function gfInverse(a: number): number {
  if (a === 0) throw new RangeError('zero has no inverse in GF(2^8)');
  return EXP[(255 - LOG[a]!) % 255]!;
}

export function gfDiv(a: number, b: number): number {
  return gfMul(a, gfInverse(b));
}

/**
 * How many key groups recover the data key: the file's threshold when it is
 * positive, else every group (a threshold of 0 or none means all of them).
 */
export function groupsNeeded(threshold: number | undefined, groupCount: number): number {
  return threshold !== undefined && threshold > 0 ? threshold : groupCount;
}

/** Splits `secret` into `parts` shares of `secret.length + 1` bytes, any `threshold` of which recover it. */
export function split(secret: Uint8Array, parts: number, threshold: number): Uint8Array[] {
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > 255) throw new TsopsError(`shamir threshold must be 2 to 255, not ${threshold}`);
  if (!Number.isInteger(parts) || parts > 255) throw new TsopsError(`shamir parts must be at most 255, not ${parts}`);
  if (parts < threshold) throw new TsopsError(`shamir parts (${parts}) cannot be fewer than the threshold (${threshold})`);
  if (secret.length === 0) throw new TsopsError('cannot split an empty secret');
  const shares = Array.from({ length: parts }, (_, i) => {
    const share = new Uint8Array(secret.length + 1);
    share[secret.length] = i + 1;
    return share;
  });
  const degree = threshold - 1;
  const random = randomBytes(secret.length * degree);
  const coefficients = new Uint8Array(threshold);
  try {
    for (let b = 0; b < secret.length; b++) {
      coefficients[0] = secret[b]!;
      coefficients.set(random.subarray(b * degree, (b + 1) * degree), 1);
      for (let i = 0; i < parts; i++) {
        const x = i + 1;
        let y = 0;
        for (let c = degree; c >= 0; c--) y = gfMul(y, x) ^ coefficients[c]!;
        shares[i]![b] = y;
      }
    }
    return shares;
  } finally {
    coefficients.fill(0);
    random.fill(0);
  }
}

/** Recovers the secret from shares made by {@link split}: Lagrange interpolation at x = 0, byte by byte. */
export function combine(shares: Uint8Array[]): Uint8Array {
  if (shares.length < 2) throw new MalformedFileError('at least two shares are needed to recover a secret');
  const length = shares[0]!.length;
  if (length < 2) throw new MalformedFileError('shares are too short to hold a secret');
  if (shares.some((s) => s.length !== length)) throw new MalformedFileError('shares must all have the same length');
  const xs = shares.map((s) => s[length - 1]!);
  if (xs.includes(0)) throw new MalformedFileError('a share has x = 0');
  if (new Set(xs).size !== xs.length) throw new MalformedFileError('two shares have the same x');
  // The Lagrange weights depend only on the x values, so they are computed once.
  const weights = xs.map((xi, i) => {
    let weight = 1;
    for (let j = 0; j < xs.length; j++) if (j !== i) weight = gfMul(weight, gfDiv(xs[j]!, xs[j]! ^ xi));
    return weight;
  });
  const secret = new Uint8Array(length - 1);
  for (let b = 0; b < length - 1; b++) {
    let value = 0;
    for (let i = 0; i < shares.length; i++) value ^= gfMul(shares[i]![b]!, weights[i]!);
    secret[b] = value;
  }
  return secret;
}

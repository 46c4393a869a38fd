import { randomBytes } from 'node:crypto';

/**
 * Shamir secret sharing over GF(2^8) with the AES polynomial, in the share
 * layout sops uses (HashiCorp Vault's): the y bytes followed by one x byte.
 */

const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
(() => {
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    // multiply by the generator 3: x*2 ^ x, reduced by 0x11B
    let doubled = x << 1;
    if (doubled & 0x100) doubled ^= 0x11b;
    x = doubled ^ x;
  }
  for (let i = 255; i < 510; i++) EXP[i] = EXP[i - 255]!;
})();

export function gfMul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[LOG[a]! + LOG[b]!]!;
}

export function gfDiv(a: number, b: number): number {
  if (b === 0) throw new Error('division by zero');
  if (a === 0) return 0;
  return EXP[(LOG[a]! + 255 - LOG[b]!) % 255]!;
}

export function split(secret: Uint8Array, parts: number, threshold: number): Uint8Array[] {
  if (threshold < 2 || threshold > 255) throw new Error('threshold must be from 2 to 255');
  if (parts < threshold) throw new Error('parts cannot be fewer than the threshold');
  if (parts > 255) throw new Error('parts cannot exceed 255');
  if (secret.length === 0) throw new Error('cannot split an empty secret');
  const shares = Array.from({ length: parts }, (_, i) => {
    const share = new Uint8Array(secret.length + 1);
    share[secret.length] = i + 1;
    return share;
  });
  const coefficients = new Uint8Array(threshold);
  for (let b = 0; b < secret.length; b++) {
    coefficients[0] = secret[b]!;
    coefficients.set(randomBytes(threshold - 1), 1);
    for (let i = 0; i < parts; i++) {
      const x = i + 1;
      let y = 0;
      for (let c = threshold - 1; c >= 0; c--) y = gfMul(y, x) ^ coefficients[c]!;
      shares[i]![b] = y;
    }
  }
  coefficients.fill(0);
  return shares;
}

export function combine(shares: Uint8Array[]): Uint8Array {
  if (shares.length < 2) throw new Error('at least two shares are needed');
  const length = shares[0]!.length;
  if (length < 2 || shares.some((s) => s.length !== length)) throw new Error('shares must all have the same length');
  const xs = shares.map((s) => s[length - 1]!);
  if (new Set(xs).size !== xs.length || xs.includes(0)) throw new Error('shares must have distinct, non-zero x values');
  const secret = new Uint8Array(length - 1);
  for (let b = 0; b < length - 1; b++) {
    let value = 0;
    for (let i = 0; i < shares.length; i++) {
      // Lagrange basis polynomial for share i, evaluated at x = 0
      let basis = 1;
      for (let j = 0; j < shares.length; j++) {
        if (i === j) continue;
        basis = gfMul(basis, gfDiv(xs[j]!, xs[j]! ^ xs[i]!));
      }
      value ^= gfMul(shares[i]![b]!, basis);
    }
    secret[b] = value;
  }
  return secret;
}

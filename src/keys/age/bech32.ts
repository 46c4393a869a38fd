/** bech32 (not bech32m), the encoding of age recipients and identities. */

const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

function bech32Polymod(values: number[]): number {
  const gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= gen[i]!;
  }
  return chk >>> 0;
}

/** Decodes a bech32 string (age keys are bech32, not bech32m); undefined when it is not valid. */
export function bech32Decode(text: string): { hrp: string; data: Buffer } | undefined {
  const lower = text.toLowerCase();
  if (text !== lower && text !== text.toUpperCase()) return undefined;
  const sep = lower.lastIndexOf('1');
  if (sep < 1 || sep + 7 > lower.length) return undefined;
  const hrp = lower.slice(0, sep);
  const values: number[] = [];
  for (const c of lower.slice(sep + 1)) {
    const v = BECH32_CHARSET.indexOf(c);
    if (v < 0) return undefined;
    values.push(v);
  }
  if (bech32Polymod([...hrpExpand(hrp), ...values]) !== 1) return undefined;
  const data = regroup(values.slice(0, -6), 5, 8, false);
  return data && { hrp, data: Buffer.from(data) };
}

function hrpExpand(hrp: string): number[] {
  return [...[...hrp].map((c) => c.charCodeAt(0) >> 5), 0, ...[...hrp].map((c) => c.charCodeAt(0) & 31)];
}

/**
 * Regroups `from`-bit values into `to`-bit ones (bech32's 5-bit words and
 * bytes). `pad` zero-fills the last group; without it, leftover bits must be
 * fewer than `from` and zero, or the input is invalid (undefined).
 */
function regroup(values: Iterable<number>, from: number, to: number, pad: boolean): number[] | undefined {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const mask = (1 << to) - 1;
  for (const v of values) {
    acc = (acc << from) | v;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >> bits) & mask);
    }
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & mask);
  } else if (bits >= from || (acc & ((1 << bits) - 1)) !== 0) {
    return undefined;
  }
  return out;
}

export function bech32Encode(hrp: string, data: Uint8Array): string {
  const words = regroup(data, 8, 5, true)!;
  const mod = bech32Polymod([...hrpExpand(hrp), ...words, 0, 0, 0, 0, 0, 0]) ^ 1;
  const checksum = [0, 1, 2, 3, 4, 5].map((i) => (mod >> (5 * (5 - i))) & 31);
  return `${hrp}1${[...words, ...checksum].map((w) => BECH32_CHARSET[w]).join('')}`;
}

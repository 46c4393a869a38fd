import { createCipheriv, createDecipheriv, createHmac, createPrivateKey, createPublicKey, diffieHellman, hkdfSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * The age v1 file format for X25519, on Node's own crypto (X25519, HKDF,
 * ChaCha20-Poly1305, HMAC). Loading the pure-JS age library costs more than
 * all the rest of a small decryption put together, so the common case (an
 * X25519 identity unwrapping a 32-byte data key) runs here; anything else
 * (hybrid post-quantum stanzas, passphrases) falls back to the library.
 * Tested against the library in both directions.
 */

const INTRO = 'age-encryption.org/v1';
const X25519_LABEL = 'age-encryption.org/v1/X25519';
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const CHUNK = 64 * 1024;

export interface X25519Identity {
  privateKey: KeyObject;
  publicKey: Buffer;
}

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

export function parseX25519Identity(identity: string): X25519Identity | undefined {
  if (!identity.startsWith('AGE-SECRET-KEY-1')) return undefined;
  const decoded = bech32Decode(identity);
  if (!decoded || decoded.hrp !== 'age-secret-key-' || decoded.data.length !== 32) return undefined;
  const privateKey = x25519PrivateKey(decoded.data);
  decoded.data.fill(0);
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return { privateKey, publicKey: Buffer.from(jwk.x!, 'base64url') };
}

/**
 * JWK import first: it skips OpenSSL's DER decoders, whose first use costs a
 * small decryption a noticeable share of its run. Its base64url string of the
 * scalar cannot be zeroed, no more than the identity text it came from; the
 * DER path is the fallback for a Node that refuses the JWK.
 */
function x25519PrivateKey(scalar: Buffer): KeyObject {
  try {
    return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: scalar.toString('base64url'), x: '' }, format: 'jwk' });
  } catch {
    const der = Buffer.concat([PKCS8_X25519, scalar]);
    try {
      return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } finally {
      der.fill(0);
    }
  }
}

function publicKeyObject(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' });
}

function chachaOpen(key: Buffer, nonce: Buffer, sealed: Buffer): Buffer {
  if (sealed.length < 16) throw new Error('ciphertext too short');
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
}

function chachaSeal(key: Buffer, nonce: Buffer, plaintext: Uint8Array): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function hkdf(key: Uint8Array, salt: Uint8Array, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, salt, info, 32));
}

interface Stanza {
  type: string;
  args: string[];
  body: Buffer;
}

interface Header {
  stanzas: Stanza[];
  /** The header text the MAC covers: everything up to and including `---`. */
  macInput: Buffer;
  mac: Buffer;
  payload: Buffer;
}

/** Strict, canonical unpadded base64 as age writes it: one encoding per byte string. */
function b64(text: string): Buffer {
  if (!/^[A-Za-z0-9+/]*$/.test(text) || text.length % 4 === 1) throw new Error('bad base64 in age header');
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64').replace(/=+$/, '') !== text) throw new Error('non-canonical base64 in age header');
  return bytes;
}

/** Stanza types and arguments are non-empty runs of visible ASCII (the age spec's VCHAR). */
const STANZA_WORD = /^[\x21-\x7e]+$/;

function parseHeader(file: Buffer): Header {
  let at = 0;
  const line = (): string => {
    const end = file.indexOf(0x0a, at);
    if (end < 0) throw new Error('truncated age header');
    const text = file.subarray(at, end).toString('latin1');
    at = end + 1;
    return text;
  };
  if (line() !== INTRO) throw new Error('not an age v1 file');
  const stanzas: Stanza[] = [];
  for (;;) {
    const start = at;
    const l = line();
    if (l.startsWith('--- ')) {
      const macInput = file.subarray(0, start + 3);
      return { stanzas, macInput, mac: b64(l.slice(4)), payload: file.subarray(at) };
    }
    if (!l.startsWith('-> ')) throw new Error('malformed age header');
    const words = l.slice(3).split(' ');
    if (!words.every((w) => STANZA_WORD.test(w))) throw new Error('malformed age stanza');
    const [type, ...args] = words;
    const body: Buffer[] = [];
    for (;;) {
      const b = line();
      if (b.length > 64) throw new Error('age stanza body line longer than 64 columns');
      body.push(b64(b));
      if (b.length < 64) break;
    }
    stanzas.push({ type: type!, args, body: Buffer.concat(body) });
  }
}

function unwrapX25519(stanza: Stanza, identity: X25519Identity): Buffer | undefined {
  if (stanza.type !== 'X25519' || stanza.args.length !== 1) return undefined;
  const share = b64(stanza.args[0]!);
  if (share.length !== 32 || stanza.body.length !== 32) throw new Error('malformed X25519 stanza');
  const shared = diffieHellman({ privateKey: identity.privateKey, publicKey: publicKeyObject(share) });
  if (shared.every((b) => b === 0)) throw new Error('invalid X25519 share');
  const wrapKey = hkdf(shared, Buffer.concat([share, identity.publicKey]), X25519_LABEL);
  try {
    return chachaOpen(wrapKey, Buffer.alloc(12), stanza.body);
  } catch {
    return undefined;
  } finally {
    shared.fill(0);
    wrapKey.fill(0);
  }
}

function openPayload(fileKey: Buffer, payload: Buffer): Buffer {
  if (payload.length < 16 + 16) throw new Error('truncated age payload');
  const streamKey = hkdf(fileKey, payload.subarray(0, 16), 'payload');
  const body = payload.subarray(16);
  const parts: Buffer[] = [];
  try {
    for (let i = 0, off = 0; off < body.length; i++) {
      const size = Math.min(CHUNK + 16, body.length - off);
      const last = off + size === body.length;
      // Only an empty payload may end in an empty chunk.
      if (last && size === 16 && i > 0) throw new Error('empty final age STREAM chunk');
      const nonce = Buffer.alloc(12);
      nonce.writeUIntBE(i, 5, 6);
      nonce[11] = last ? 1 : 0;
      parts.push(chachaOpen(streamKey, nonce, body.subarray(off, off + size)));
      off += size;
    }
    return Buffer.concat(parts);
  } finally {
    streamKey.fill(0);
    for (const p of parts) p.fill(0);
  }
}

/**
 * Decrypts an age file for which one of `identities` holds an X25519 stanza.
 * Returns undefined when no stanza is X25519 for these identities (the caller
 * then tries the full library); throws when the file is damaged.
 */
export function decryptX25519(file: Buffer, identities: X25519Identity[]): Buffer | undefined {
  const header = parseHeader(file);
  for (const stanza of header.stanzas) {
    for (const identity of identities) {
      const fileKey = unwrapX25519(stanza, identity);
      if (!fileKey) continue;
      try {
        const hmacKey = hkdf(fileKey, Buffer.alloc(0), 'header');
        const mac = createHmac('sha256', hmacKey).update(header.macInput).digest();
        hmacKey.fill(0);
        if (mac.length !== header.mac.length || !timingSafeEqual(mac, header.mac)) throw new Error('age header MAC mismatch');
        return openPayload(fileKey, header.payload);
      } finally {
        fileKey.fill(0);
      }
    }
  }
  return undefined;
}

/** Encrypts to one X25519 recipient (`age1...`), as `age -r` would. */
export function encryptX25519(plaintext: Uint8Array, recipient: string): Buffer | undefined {
  const decoded = bech32Decode(recipient);
  if (!decoded || decoded.hrp !== 'age' || decoded.data.length !== 32) return undefined;
  const fileKey = randomBytes(16);
  const ephemeral = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, randomBytes(32)]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(ephemeral).export({ format: 'der', type: 'spki' });
  const share = Buffer.from(spki.subarray(spki.length - 32));
  const shared = diffieHellman({ privateKey: ephemeral, publicKey: publicKeyObject(decoded.data) });
  const wrapKey = hkdf(shared, Buffer.concat([share, decoded.data]), X25519_LABEL);
  const wrapped = chachaSeal(wrapKey, Buffer.alloc(12), fileKey);
  shared.fill(0);
  wrapKey.fill(0);
  const unpadded = (b: Buffer): string => b.toString('base64').replace(/=+$/, '');
  const bodyB64 = unpadded(wrapped);
  const lines: string[] = [...(bodyB64.match(/.{1,64}/g) ?? [])];
  if (bodyB64.length % 64 === 0) lines.push('');
  const headerText = `${INTRO}\n-> X25519 ${unpadded(share)}\n${lines.join('\n')}\n---`;
  const hmacKey = hkdf(fileKey, Buffer.alloc(0), 'header');
  const mac = createHmac('sha256', hmacKey).update(headerText).digest();
  hmacKey.fill(0);
  const nonce = randomBytes(16);
  const streamKey = hkdf(fileKey, nonce, 'payload');
  fileKey.fill(0);
  const chunkNonce = Buffer.alloc(12);
  chunkNonce[11] = 1;
  if (plaintext.length > CHUNK) return undefined;
  const payload = chachaSeal(streamKey, chunkNonce, plaintext);
  streamKey.fill(0);
  return Buffer.concat([Buffer.from(`${headerText} ${unpadded(mac)}\n`, 'latin1'), nonce, payload]);
}

/** age's ASCII armor (PEM-like, 64 columns, trailing newline). */
export function armor(file: Buffer): string {
  const body = file.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN AGE ENCRYPTED FILE-----\n${body}\n-----END AGE ENCRYPTED FILE-----\n`;
}

/**
 * Reads age's armor as strictly as age does: whitespace only around the
 * armor, LF or CRLF line ends, full 64-column lines but the last (non-empty),
 * canonical padded base64, nothing else.
 */
export function dearmor(text: string): Buffer {
  const lines = text.trim().split(/\r?\n/);
  if (lines.length < 3 || lines[0] !== '-----BEGIN AGE ENCRYPTED FILE-----' || lines[lines.length - 1] !== '-----END AGE ENCRYPTED FILE-----') throw new Error('malformed age armor');
  const bodyLines = lines.slice(1, -1);
  const lastLine = bodyLines[bodyLines.length - 1]!;
  if (bodyLines.slice(0, -1).some((l) => l.length !== 64) || lastLine.length === 0 || lastLine.length > 64) throw new Error('malformed age armor');
  const body = bodyLines.join('');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) throw new Error('malformed age armor');
  const bytes = Buffer.from(body, 'base64');
  if (bytes.toString('base64') !== body) throw new Error('malformed age armor: non-canonical base64');
  return bytes;
}

function bech32Encode(hrp: string, data: Uint8Array): string {
  const words = regroup(data, 8, 5, true)!;
  const mod = bech32Polymod([...hrpExpand(hrp), ...words, 0, 0, 0, 0, 0, 0]) ^ 1;
  const checksum = [0, 1, 2, 3, 4, 5].map((i) => (mod >> (5 * (5 - i))) & 31);
  return `${hrp}1${[...words, ...checksum].map((w) => BECH32_CHARSET[w]).join('')}`;
}

/** A new X25519 identity and its recipient, as age-keygen makes them. */
export function generateX25519(): { identity: string; recipient: string } {
  const secret = randomBytes(32);
  const identity = bech32Encode('age-secret-key-', secret).toUpperCase();
  secret.fill(0);
  const parsed = parseX25519Identity(identity)!;
  return { identity, recipient: bech32Encode('age', parsed.publicKey) };
}

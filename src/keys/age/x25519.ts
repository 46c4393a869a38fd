import { createPrivateKey, createPublicKey, diffieHellman, randomBytes, type KeyObject } from 'node:crypto';
import { chachaOpen, chachaSeal, hkdf } from './aead.js';
import { bech32Decode, bech32Encode } from './bech32.js';
import { b64, headerMac, headerText, parseHeader, unpaddedBase64, verifyHeaderMac, type Stanza } from './header.js';
import { openPayload, sealSingleChunk } from './stream.js';

/**
 * The age v1 file format for X25519, on Node's own crypto (X25519, HKDF,
 * ChaCha20-Poly1305, HMAC). Loading the pure-JS age library costs more than
 * all the rest of a small decryption put together, so the common case (an
 * X25519 identity unwrapping a 32-byte data key) runs here; anything else
 * (hybrid post-quantum stanzas, passphrases) falls back to the library.
 * Tested against the library in both directions.
 */

const X25519_LABEL = 'age-encryption.org/v1/X25519';
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');

export interface X25519Identity {
  privateKey: KeyObject;
  publicKey: Buffer;
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
        verifyHeaderMac(fileKey, header);
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
  try {
    const ephemeral = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, randomBytes(32)]), format: 'der', type: 'pkcs8' });
    const spki = createPublicKey(ephemeral).export({ format: 'der', type: 'spki' });
    const share = Buffer.from(spki.subarray(spki.length - 32));
    const shared = diffieHellman({ privateKey: ephemeral, publicKey: publicKeyObject(decoded.data) });
    const wrapKey = hkdf(shared, Buffer.concat([share, decoded.data]), X25519_LABEL);
    const stanza: Stanza = { type: 'X25519', args: [unpaddedBase64(share)], body: chachaSeal(wrapKey, Buffer.alloc(12), fileKey) };
    shared.fill(0);
    wrapKey.fill(0);
    const text = headerText(stanza);
    const payload = sealSingleChunk(fileKey, plaintext);
    if (!payload) return undefined;
    return Buffer.concat([Buffer.from(`${text} ${unpaddedBase64(headerMac(fileKey, text))}\n`, 'latin1'), payload]);
  } finally {
    fileKey.fill(0);
  }
}

/** A new X25519 identity and its recipient, as age-keygen makes them. */
export function generateX25519(): { identity: string; recipient: string } {
  const secret = randomBytes(32);
  const identity = bech32Encode('age-secret-key-', secret).toUpperCase();
  secret.fill(0);
  const parsed = parseX25519Identity(identity)!;
  return { identity, recipient: bech32Encode('age', parsed.publicKey) };
}

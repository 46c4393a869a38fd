import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';

/** The primitives every part of the age format shares: ChaCha20-Poly1305 and HKDF-SHA-256. */

export function chachaOpen(key: Buffer, nonce: Buffer, sealed: Buffer): Buffer {
  if (sealed.length < 16) throw new Error('ciphertext too short');
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
}

export function chachaSeal(key: Buffer, nonce: Buffer, plaintext: Uint8Array): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

export function hkdf(key: Uint8Array, salt: Uint8Array, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, salt, info, 32));
}

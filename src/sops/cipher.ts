import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * The `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` value string (spec §1): AES-256-GCM
 * with a 32-byte IV, the tag stored apart from the ciphertext, and the leaf's path
 * as additional data.
 */
export interface SealedValue {
  data: Buffer;
  iv: Buffer;
  tag: Buffer;
  type: string;
}

// Go's pattern is anchored at the start only; text after the final `]` is ignored.
const ENC_PATTERN = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const IV_BYTES = 32;
export const DATA_KEY_BYTES = 32;

export function looksEncrypted(text: string): boolean {
  return text.startsWith('ENC[AES256_GCM,');
}

/** Parses an ENC string; undefined when it does not match sops's grammar. */
export function parseSealed(text: string): SealedValue | undefined {
  const m = ENC_PATTERN.exec(text);
  if (!m) return undefined;
  const [, data, iv, tag, type] = m as unknown as [string, string, string, string, string];
  // Strict base64: Node's decoder silently skips bad characters, which would let a
  // tampered string decode to the same bytes.
  if (!BASE64.test(data) || !BASE64.test(iv) || !BASE64.test(tag)) return undefined;
  return {
    data: Buffer.from(data, 'base64'),
    iv: Buffer.from(iv, 'base64'),
    tag: Buffer.from(tag, 'base64'),
    type,
  };
}

export function formatSealed(v: SealedValue): string {
  return `ENC[AES256_GCM,data:${v.data.toString('base64')},iv:${v.iv.toString('base64')},tag:${v.tag.toString('base64')},type:${v.type}]`;
}

export function seal(key: Uint8Array, plaintext: Uint8Array, aad: string, type: string, iv?: Uint8Array): string {
  const ivBuf = iv ? Buffer.from(iv) : randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, ivBuf);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return formatSealed({ data, iv: ivBuf, tag: cipher.getAuthTag(), type });
}

/** Throws when authentication fails (wrong key, tampered bytes, value moved to another path). */
export function open(key: Uint8Array, sealed: SealedValue, aad: string): Buffer {
  if (sealed.tag.length !== 16) throw new Error('invalid tag length');
  if (sealed.iv.length === 0) throw new Error('empty IV');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv);
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.tag);
  return Buffer.concat([decipher.update(sealed.data), decipher.final()]);
}

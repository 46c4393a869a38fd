import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { encFields, encString } from '../enc-string.js';

/**
 * The `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` value string (docs/format.md#values): AES-256-GCM
 * with a 32-byte IV, the tag stored apart from the ciphertext, and the leaf's path
 * as additional data.
 */
export interface SealedValue {
  data: Buffer;
  iv: Buffer;
  tag: Buffer;
  type: string;
}

export const IV_BYTES = 32;
export const DATA_KEY_BYTES = 32;

const BASE64_TEXT = /^[A-Za-z0-9+/]*={0,2}$/;
/** Value of each base64 character + 1 (0: not base64), indexed by char code. */
const BASE64_VALUE = new Uint8Array(128);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) BASE64_VALUE[c.charCodeAt(0)] = i + 1;

/**
 * Strict base64: Node's decoder silently skips bad characters, which would let
 * a tampered string decode to the same bytes; only the canonical encoding of
 * the decoded bytes is accepted: padded to a multiple of 4, only alphabet
 * characters before the padding, and zero bits where the last character
 * holds more bits than the bytes need. Checked in one pass, as decryption
 * does this three times per value.
 */
function strictBase64(text: string): Buffer | undefined {
  const length = text.length;
  // The regex engine compiles this to machine code: far quicker than a loop over characters on a cold start.
  if (length % 4 !== 0 || !BASE64_TEXT.test(text)) return undefined;
  const padding = length === 0 ? 0 : text.charCodeAt(length - 1) !== 0x3d ? 0 : text.charCodeAt(length - 2) === 0x3d ? 2 : 1;
  const end = length - padding;
  if (padding > 0) {
    const last = BASE64_VALUE[text.charCodeAt(end - 1)]! - 1;
    if ((padding === 1 && (last & 0b11) !== 0) || (padding === 2 && (last & 0b1111) !== 0)) return undefined;
  }
  return Buffer.from(text, 'base64');
}

/** Parses an ENC string; undefined when it does not match sops's grammar. */
export function parseSealed(text: string): SealedValue | undefined {
  const fields = encFields(text);
  if (!fields) return undefined;
  const { data, iv, tag, type } = fields;
  if (!data || !iv || !tag || !type) return undefined;
  const dataBytes = strictBase64(data);
  const ivBytes = strictBase64(iv);
  const tagBytes = strictBase64(tag);
  if (!dataBytes || !ivBytes || !tagBytes) return undefined;
  return { data: dataBytes, iv: ivBytes, tag: tagBytes, type };
}

export function formatSealed(v: SealedValue): string {
  return encString(v.data.toString('base64'), v.iv.toString('base64'), v.tag.toString('base64'), v.type);
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
  const plaintext = decipher.update(sealed.data);
  // GCM gives everything from update(); final() only checks the tag.
  const rest = decipher.final();
  return rest.length === 0 ? plaintext : Buffer.concat([plaintext, rest]);
}

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

// Blob layout: magic, version, key ARN (length-prefixed), IV, tag, ciphertext.
// The key ARN and the canonical encryption context are the GCM additional data,
// so a blob opened under another context (or moved to another key) fails.
const MAGIC = Buffer.from('TKMS', 'ascii');
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class BadCiphertext extends Error {}

export function canonicalContext(context: Record<string, string> | undefined): Buffer {
  const pairs = Object.keys(context ?? {}).sort().map((k) => [k, context![k]]);
  return Buffer.from(JSON.stringify(pairs), 'utf8');
}

function additionalData(keyArn: string, context: Record<string, string> | undefined): Buffer {
  return Buffer.concat([Buffer.from(`${keyArn}\0`, 'utf8'), canonicalContext(context)]);
}

export function seal(keyArn: string, material: Buffer, plaintext: Buffer, context: Record<string, string> | undefined): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', material, iv);
  cipher.setAAD(additionalData(keyArn, context));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const arn = Buffer.from(keyArn, 'utf8');
  const arnLength = Buffer.alloc(2);
  arnLength.writeUInt16BE(arn.length);
  return Buffer.concat([MAGIC, Buffer.from([VERSION]), arnLength, arn, iv, cipher.getAuthTag(), body]);
}

/** The key ARN a blob names, without opening it. */
export function blobKeyArn(blob: Buffer): string {
  if (blob.length < MAGIC.length + 3 || !blob.subarray(0, MAGIC.length).equals(MAGIC) || blob[MAGIC.length] !== VERSION) {
    throw new BadCiphertext('not a ciphertext blob of this server');
  }
  const length = blob.readUInt16BE(MAGIC.length + 1);
  const start = MAGIC.length + 3;
  if (blob.length < start + length + IV_BYTES + TAG_BYTES) throw new BadCiphertext('truncated ciphertext blob');
  return blob.subarray(start, start + length).toString('utf8');
}

export function open(blob: Buffer, material: Buffer, context: Record<string, string> | undefined): Buffer {
  const keyArn = blobKeyArn(blob);
  let at = MAGIC.length + 3 + Buffer.byteLength(keyArn, 'utf8');
  const iv = blob.subarray(at, (at += IV_BYTES));
  const tag = blob.subarray(at, (at += TAG_BYTES));
  const decipher = createDecipheriv('aes-256-gcm', material, iv);
  decipher.setAAD(additionalData(keyArn, context));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(blob.subarray(at)), decipher.final()]);
  } catch {
    throw new BadCiphertext('ciphertext does not authenticate');
  }
}

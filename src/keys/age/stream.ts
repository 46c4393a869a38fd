import { randomBytes } from 'node:crypto';
import { chachaOpen, chachaSeal, hkdf } from './aead.js';

/** age's STREAM payload: a 16-byte nonce, then 64 KiB ChaCha20-Poly1305 chunks, the last one flagged. */

export const CHUNK = 64 * 1024;

export function openPayload(fileKey: Buffer, payload: Buffer): Buffer {
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

/** The payload for a plaintext that fits one chunk (a data key or a share); undefined when it does not. */
export function sealSingleChunk(fileKey: Buffer, plaintext: Uint8Array): Buffer | undefined {
  if (plaintext.length > CHUNK) return undefined;
  const nonce = randomBytes(16);
  const streamKey = hkdf(fileKey, nonce, 'payload');
  const chunkNonce = Buffer.alloc(12);
  chunkNonce[11] = 1;
  try {
    return Buffer.concat([nonce, chachaSeal(streamKey, chunkNonce, plaintext)]);
  } finally {
    streamKey.fill(0);
  }
}

import { chmod, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { nowTimestamp } from '../../values.js';
import { generateX25519 } from './x25519.js';

export { defaultAgeKeysFile } from './keys-file.js';

export interface AgeKeyPair {
  identity: string;
  recipient: string;
}

/** A new X25519 identity (`AGE-SECRET-KEY-1...`) and its recipient (`age1...`). */
export async function generateAgeKey(): Promise<AgeKeyPair> {
  return generateX25519();
}

/**
 * Appends a key in age-keygen's layout to a keys file only its owner can read:
 * the file is 0600 (fixed if it already exists), new parent directories 0700.
 */
export async function appendAgeKey(path: string, key: AgeKeyPair, now: Date = new Date()): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const handle = await open(path, 'a+', 0o600);
  try {
    // Before any secret is written: an existing file may have been created world-readable.
    await chmod(path, 0o600);
    const { size } = await handle.stat();
    let separator = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      separator = last[0] === 0x0a ? '\n' : '\n\n';
    }
    await handle.write(`${separator}# created: ${nowTimestamp(now)}\n# public key: ${key.recipient}\n${key.identity}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

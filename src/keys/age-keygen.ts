import { chmod, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { nowTimestamp } from '../sops/values.js';
import { generateX25519 } from './age-native.js';

export { defaultAgeKeysFile } from './age-identities.js';

export async function generateAgeKey(): Promise<{ identity: string; recipient: string }> {
  return generateX25519();
}

/** Appends a key in age-keygen's layout to a keys file that only its owner can read (0600, in a 0700 dir). */
export async function appendAgeKey(path: string, key: { identity: string; recipient: string }, now: Date = new Date()): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const handle = await open(path, 'a', 0o600);
  try {
    await chmod(path, 0o600);
    const { size } = await handle.stat();
    const separator = size > 0 ? '\n' : '';
    await handle.write(`${separator}# created: ${nowTimestamp(now)}\n# public key: ${key.recipient}\n${key.identity}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

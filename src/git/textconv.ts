import { readFileSync } from 'node:fs';
import { formatForPath } from '../formats/format.js';
import { readStore } from '../formats/detect.js';
import type { KeyOptions } from '../keys/masterkey.js';
import { verifyOpens } from '../sops/open.js';

/**
 * git's textconv: the plaintext of an encrypted blob for diffs and logs,
 * decrypted in memory. Anything that cannot be decrypted here (no keys, not an
 * encrypted file, damaged) is shown as it is, quietly: a user without keys
 * sees the encrypted text, not a wall of errors.
 */
export async function textconv(path: string, keys: KeyOptions): Promise<Uint8Array> {
  const bytes = readFileSync(path);
  try {
    const { format, parsed } = await readStore(bytes, formatForPath(path), { file: path, needMetadata: true });
    if (!parsed.metadata) return bytes;
    await verifyOpens(parsed, { keys });
    return format.emit(parsed);
  } catch {
    return bytes;
  }
}

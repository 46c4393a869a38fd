/** An encrypted file on disk to a decrypted tree. */
import { resolve } from 'node:path';
import { TsopsError } from '../errors.js';
import { formatForPath } from '../formats/format.js';
import { readInput } from '../io/input.js';
import { decryptBytes, type OpenOptions } from '../sops/open.js';
import type { ParsedFile } from '../tree.js';

export { decryptBytes, type OpenOptions } from '../sops/open.js';


/** Reads and decrypts the file at `path` (relative to `cwd`); errors name the file as given. */
export async function decryptPath(path: string, options: OpenOptions = {}, cwd?: string): Promise<ParsedFile> {
  const bytes = await readInput(resolve(cwd ?? process.cwd(), path)).catch((e: unknown) => {
    if (e instanceof TsopsError) e.file = path;
    throw e;
  });
  try {
    // A store given explicitly is read as given; one implied by the name may give way to the content's.
    return await decryptBytes(bytes, options.format ?? formatForPath(path), path, { exactFormat: options.format !== undefined, ...options });
  } finally {
    bytes.fill(0);
  }
}


/**
 * Encrypted bytes to a decrypted tree: the one walk exec-env, exec-file and
 * the library share (parse, unwrap the data key, decrypt, check the MAC).
 */
import { resolve } from 'node:path';
import { InputError, MalformedFileError, MetadataNotFoundError, TsopsError } from '../errors.js';
import { formatForPath, loadFormat } from '../formats/format.js';
import { readInput } from '../io/input.js';
import type { KeyOptions, MasterKeyType } from '../keys/masterkey.js';
import { decryptDocument, forgetDecrypted } from '../sops/index.js';
import type { FormatName, ParsedFile } from '../tree.js';

export interface OpenOptions {
  /** Default: from the file name (`.yaml`, `.json`, `.env`, `.ini`, anything else binary). */
  format?: FormatName;
  ignoreMac?: boolean;
  decryptionOrder?: MasterKeyType[];
  keys?: KeyOptions;
}

/** Reads and decrypts the file at `path` (relative to `cwd`); errors name the file as given. */
export async function decryptPath(path: string, options: OpenOptions = {}, cwd?: string): Promise<ParsedFile> {
  const bytes = await readInput(resolve(cwd ?? process.cwd(), path)).catch((e: unknown) => {
    if (e instanceof TsopsError) e.file = path;
    throw e;
  });
  try {
    return await decryptBytes(bytes, options.format ?? formatForPath(path), path, options);
  } finally {
    bytes.fill(0);
  }
}

/**
 * Decrypts encrypted file bytes. A file that does not parse is sops's exit 1
 * (a broken encrypted file), not 2. `name` only labels errors.
 */
export async function decryptBytes(bytes: Uint8Array, format: FormatName, name: string | undefined, options: OpenOptions = {}): Promise<ParsedFile> {
  let parsed: ParsedFile;
  try {
    parsed = (await loadFormat(format)).parse(bytes, name === undefined ? {} : { file: name });
  } catch (e) {
    if (e instanceof InputError) throw new MalformedFileError(e.message, name === undefined ? undefined : { file: name });
    throw e;
  }
  if (!parsed.metadata) throw new MetadataNotFoundError(name === undefined ? undefined : { file: name });
  try {
    const decrypted = await decryptDocument(parsed, {
      ...(options.ignoreMac ? { ignoreMac: true } : {}),
      ...(options.decryptionOrder ? { decryptionOrder: options.decryptionOrder } : {}),
      ...(options.keys ? { keys: options.keys } : {}),
    });
    forgetDecrypted(decrypted);
  } catch (e) {
    if (e instanceof TsopsError) e.inFile(name);
    throw e;
  }
  return parsed;
}

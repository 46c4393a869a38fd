/**
 * Encrypted bytes to a decrypted tree: the one walk every reader shares (the
 * CLI's decrypt, exec-env, exec-file, the library): parse, open (unwrap the
 * data key, decrypt, check the MAC), forget the key.
 */
import { aboutFile, InputError, MalformedFileError, MetadataNotFoundError } from '../errors.js';
import { readStore } from '../formats/detect.js';
import type { KeyOptions, MasterKeyType } from '../keys/masterkey.js';
import type { FormatName, ParsedFile } from '../tree.js';
import { OpenedFile } from './opened-file.js';

export interface OpenOptions {
  /** Default: from the file name (`.yaml`, `.json`, `.env`, `.ini`, anything else binary); the content decides when the file is not that store. */
  format?: FormatName;
  /** `format` was given explicitly: read the file as that store only, never as the one its content shows. */
  exactFormat?: boolean;
  ignoreMac?: boolean;
  decryptionOrder?: MasterKeyType[];
  keys?: KeyOptions;
  /** Sees the parsed file, metadata included, just before it is decrypted. */
  inspect?: (parsed: ParsedFile) => void;
}

/**
 * Decrypts encrypted file bytes. A file that does not parse is sops's exit 1
 * (a broken encrypted file), not 2. `name` only labels errors.
 */
export async function decryptBytes(bytes: Uint8Array, format: FormatName, name: string | undefined, options: OpenOptions = {}): Promise<ParsedFile> {
  let parsed: ParsedFile;
  try {
    const note = options.keys?.log;
    ({ parsed } = await readStore(bytes, format, { ...(name === undefined ? {} : { file: name }), needMetadata: true, exact: Boolean(options.exactFormat), ...(note ? { note } : {}) }));
  } catch (e) {
    if (e instanceof InputError) throw new MalformedFileError(e.message, name === undefined ? undefined : { file: name });
    throw e;
  }
  if (!parsed.metadata) throw new MetadataNotFoundError(name === undefined ? undefined : { file: name });
  const opened = await aboutFile(name, () => {
    options.inspect?.(parsed);
    return OpenedFile.open(parsed, {
      ...(options.ignoreMac ? { ignoreMac: true } : {}),
      ...(options.decryptionOrder ? { decryptionOrder: options.decryptionOrder } : {}),
      ...(options.keys ? { keys: options.keys } : {}),
    });
  });
  opened.dispose();
  return parsed;
}

/** Checks that a parsed encrypted file opens with the keys at hand (MAC and structure binding verified), decrypting it in place; keeps no key. */
export async function verifyOpens(file: ParsedFile, options: { keys?: KeyOptions; ignoreMac?: boolean; decryptionOrder?: MasterKeyType[] } = {}): Promise<void> {
  (await OpenedFile.open(file, options)).dispose();
}

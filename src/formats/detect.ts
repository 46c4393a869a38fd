import { InputError, MalformedFileError, TsopsError } from '../errors.js';
import type { FormatName, ParsedFile } from '../tree.js';
import type { Format } from './format.js';
import { detectableStores, STORES, storeNamed } from './registry.js';

/**
 * Opening a stored (encrypted) file. sops picks the store from the name and
 * writes every unknown name, `.env.production` and `secrets` included, as the
 * binary store (a JSON envelope); a file may also be renamed after it was
 * written. So when a file does not read as the store its name implies (it
 * does not parse, or, where metadata is required, it parses without any), the
 * store is recognised from the content instead. A file that reads as its
 * named store is never reinterpreted.
 */

export interface StoreReadOptions {
  /** The file name, for error messages. */
  file?: string;
  /** Look for another store when the named one parses but carries no sops metadata (reads of encrypted files). */
  needMetadata?: boolean;
  /** The store was given explicitly (`--input-type`, the library's `format`): no detection. */
  exact?: boolean;
  /** Told which store the content was read as, when that is not the named one (`--verbose`). */
  note?: (line: string) => void;
}

export interface StoreRead {
  /** The store the file was read with: emit through it to write the file back as it was. */
  format: Format;
  parsed: ParsedFile;
}

/** Reads `bytes` as `named`, or as the store its content shows when that fails (see above). */
export async function readStore(bytes: Uint8Array, named: FormatName, options: StoreReadOptions = {}): Promise<StoreRead> {
  const namedStore = storeNamed(named);
  const format = await namedStore.load();
  const parseOptions = options.file === undefined ? {} : { file: options.file };
  if (options.exact) return { format, parsed: asEncrypted(() => format.parse(bytes, parseOptions), options) };
  let parsed: ParsedFile | undefined;
  let failure: unknown;
  try {
    parsed = format.parse(bytes, parseOptions);
    const owner = namedStore.ownerOf?.(parsed);
    if (owner) {
      const ownerFormat = await owner.load();
      options.note?.(`${shown(options.file)}: read as the ${owner.name} store (its content), not ${named} (its name)`);
      return { format: ownerFormat, parsed: ownerFormat.parse(bytes, parseOptions) };
    }
    if (parsed.metadata || !options.needMetadata) return { format, parsed };
  } catch (e) {
    if (!(e instanceof TsopsError)) throw e;
    failure = e;
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  for (const candidate of detectableStores()) {
    // The metadata is at the end of a file: the whole text is searched.
    if (candidate === namedStore || !candidate.detection!.mayHold(text)) continue;
    const other = await candidate.load();
    let read: ParsedFile;
    try {
      read = other.parse(bytes, parseOptions);
    } catch {
      continue;
    }
    if (!read.metadata) continue;
    const claimant = STORES.find((s) => s !== candidate && s.claimsRead?.(read, candidate));
    const store = claimant ? await claimant.load() : other;
    if (claimant) read = store.parse(bytes, parseOptions);
    options.note?.(`${shown(options.file)}: read as the ${store.name} store (its content), not ${named} (its name)`);
    return { format: store, parsed: read };
  }
  if (parsed) return { format, parsed };
  return asEncrypted(() => {
    throw failure;
  }, options);
}

/** Where an encrypted file is expected, one that does not parse is malformed (exit 1), not unreadable input (exit 2). */
function asEncrypted<T>(read: () => T, options: StoreReadOptions): T {
  try {
    return read();
  } catch (e) {
    if (options.needMetadata && e instanceof InputError) throw new MalformedFileError(e.message, options.file === undefined ? undefined : { file: options.file });
    throw e;
  }
}

/** A file name for a message line: control characters escaped, never printed raw. */
function shown(file: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  return (file ?? 'input').replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

import { InputError, MalformedFileError, TsopsError } from '../errors.js';
import type { FormatName, ParsedFile } from '../tree.js';
import { loadFormat, type Format } from './format.js';

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
  const format = await loadFormat(named);
  const parseOptions = options.file === undefined ? {} : { file: options.file };
  if (options.exact) return { format, parsed: asEncrypted(() => format.parse(bytes, parseOptions), options) };
  let parsed: ParsedFile | undefined;
  let failure: unknown;
  try {
    parsed = format.parse(bytes, parseOptions);
    if (parsed.metadata && named === 'binary' && !isBinaryEnvelope(parsed)) {
      // The binary store reads any JSON object with metadata; one that is not an envelope is the JSON store's.
      const json = await loadFormat('json');
      options.note?.(`${shown(options.file)}: read as the json store (its content), not binary (its name)`);
      return { format: json, parsed: json.parse(bytes, parseOptions) };
    }
    if (parsed.metadata || !options.needMetadata) return { format, parsed };
  } catch (e) {
    if (!(e instanceof TsopsError)) throw e;
    failure = e;
  }
  for (const candidate of candidates(bytes)) {
    if (candidate === named) continue;
    const other = await loadFormat(candidate);
    let read: ParsedFile;
    try {
      read = other.parse(bytes, parseOptions);
    } catch {
      continue;
    }
    if (!read.metadata) continue;
    const store = candidate === 'json' && isBinaryEnvelope(read) ? await loadFormat('binary') : other;
    if (store !== other) read = store.parse(bytes, parseOptions);
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

/**
 * The stores the content could be, cheapest and most specific first: a JSON
 * object, then the line-based stores whose metadata has a telltale spelling,
 * then YAML (which JSON also is).
 */
function candidates(bytes: Uint8Array): FormatName[] {
  // The metadata is at the end of a file: the whole text is searched.
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const out: FormatName[] = [];
  if (/^(?:\xEF\xBB\xBF)?\s*\{/.test(text)) out.push('json');
  if (/^sops_[A-Za-z0-9_]*=/m.test(text)) out.push('dotenv');
  if (/^\s*\[sops\]\s*$/m.test(text)) out.push('ini');
  if (/^sops:/m.test(text)) out.push('yaml');
  return out;
}

/** sops's binary store: a JSON object holding `data` only (besides `sops`). */
function isBinaryEnvelope(file: ParsedFile): boolean {
  const items = file.documents[0]?.items ?? [];
  return items.length === 1 && items[0]!.kind === 'entry' && items[0]!.key === 'data';
}

/** A file name for a message line: control characters escaped, never printed raw. */
function shown(file: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  return (file ?? 'input').replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

import { aboutFile } from '../errors.js';
import type { FormatName, ParsedFile } from '../tree.js';
import { storeForPath, storeForTypeName, storeNamed } from './registry.js';

export interface ParseOptions {
  /** The file name, for error messages only. */
  file?: string;
}

export interface EmitOptions {
  /**
   * Store indent from `--indent` or the config's `stores` section. YAML: spaces
   * (default 4). JSON and binary: -1 or undefined means a tab, N >= 0 means N spaces.
   */
  indent?: number;
}

/**
 * One file format. `parse` never touches crypto and `emit` never re-parses:
 * the document layer changes scalar values and comment texts of the parsed
 * tree in place, and `emit` writes them back. When `file.layout` came from this
 * format's own `parse`, everything the document layer did not change is written
 * exactly as it was read; otherwise (a conversion between formats, a new
 * document) the format writes its own canonical layout.
 *
 * `parse` throws {@link InputError} for text that is not valid in the format.
 * `emit` throws {@link EmitError} for trees the format cannot hold.
 */
export interface Format {
  readonly name: FormatName;
  parse(input: Uint8Array, options?: ParseOptions): ParsedFile;
  emit(file: ParsedFile, options?: EmitOptions): Uint8Array;
}

/** Stores load lazily so that a JSON or .env file never pays for the YAML parser. */
export function loadFormat(name: FormatName): Promise<Format> {
  return storeNamed(name).load();
}

/**
 * `file` written as `format`: in its own layout when the format is unchanged,
 * the format's canonical one otherwise. An error names `name`, the file this
 * output is for.
 */
export async function emitAs(file: ParsedFile, format: FormatName, indent: number | undefined, name: string): Promise<Uint8Array> {
  const out: ParsedFile = file.format === format ? file : { ...file, format, layout: undefined };
  return aboutFile(name, async () => (await loadFormat(format)).emit(out, indent === undefined ? {} : { indent }));
}

/** `--input-type` / `--output-type` values, as sops spells them. */
export function parseFormatName(name: string): FormatName | undefined {
  return storeForTypeName(name)?.name;
}

/** The store a file name implies (see each store's `claimsName`), the fallback store when none claims it. */
export function formatForPath(path: string): FormatName {
  return storeForPath(path).name;
}

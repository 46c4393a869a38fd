import { TsopsError } from '../errors.js';
import type { Format } from '../formats/format.js';
import type { ParsedFile } from '../tree.js';

/** Emits `file`; an error names the file it was for, as every CLI error does. */
export function emitIn(name: string, format: Format, file: ParsedFile, indent: number | undefined): Uint8Array {
  try {
    return format.emit(file, { indent });
  } catch (e) {
    throw e instanceof TsopsError ? e.inFile(name) : e;
  }
}

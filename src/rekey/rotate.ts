import { readFileSync } from 'node:fs';
import { readStore } from '../formats/detect.js';
import { formatForPath } from '../formats/format.js';
import type { KeyOptions, MasterKeyType } from '../keys/masterkey.js';
import { OpenedFile, type KeyChanges } from '../sops/opened-file.js';
import type { FormatName } from '../tree.js';
import { readMetadata } from '../sops/metadata.js';
import { describeDrift, keyDrift } from './drift.js';
import { dataKeyDate, olderThan } from './key-date.js';

export interface RotateOptions {
  format: FormatName;
  /** The format was given explicitly: read the file as that store only. */
  exactFormat?: boolean;
  changes: KeyChanges;
  keys: KeyOptions;
  ignoreMac?: boolean;
  decryptionOrder?: MasterKeyType[];
  indent?: number;
  /** Where the creation rules are looked up, for the drift warning. */
  config: { cwd: string; env: NodeJS.ProcessEnv; explicitConfig?: string };
  warn: (line: string) => void;
}

/**
 * A new data key for an encrypted file's bytes, every value re-encrypted,
 * master keys changed as asked; returns the file to write. Keys in the file
 * that its creation rule does not name are warned about (a recipient injected
 * into the metadata gets the new data key too), then kept, as sops does.
 */
export async function rotateFile(file: string, bytes: Uint8Array, options: RotateOptions): Promise<Uint8Array> {
  const { format, parsed } = await readStore(bytes, options.format, { file, needMetadata: true, exact: Boolean(options.exactFormat) });
  const drift = await keyDrift(file, parsed.metadata, options.config);
  if (drift) options.warn(describeDrift(file, drift));
  using opened = await OpenedFile.open(parsed, { keepIvs: true, ignoreMac: options.ignoreMac, decryptionOrder: options.decryptionOrder, keys: options.keys });
  await opened.rotate(options.changes, options.keys);
  opened.reseal();
  return format.emit(opened.file, { indent: options.indent });
}

/** What `rotate --older-than` says of a file: rotate it, or why not. */
export type Selection = 'due' | 'not due' | 'age unknown';

/** `rotate --older-than`: whether the file's data key is past `maxDays` (src/rekey/key-date.ts). */
export async function selectOlderThan(file: string, maxDays: number, now: Date): Promise<Selection> {
  const { parsed } = await readStore(readFileSync(file), formatForPath(file), { file, needMetadata: true });
  const due = olderThan(await dataKeyDate(file, readMetadata(parsed.metadata!)), maxDays, now);
  return due === undefined ? 'age unknown' : due ? 'due' : 'not due';
}

import { describeError } from '../errors.js';
import { readStore } from '../formats/detect.js';
import { displayPath, encryptedFiles } from '../files/walk.js';
import { mapLimited } from '../files/map-limited.js';
import type { KeyOptions, MasterKeyType } from '../keys/masterkey.js';
import { OpenedFile, type KeyChanges } from '../sops/opened-file.js';
import type { FormatName } from '../tree.js';
import { describeDrift, keyDrift } from './drift.js';

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

export interface TreeRotation {
  rotated: number;
  /** One line per file that failed, naming it. */
  failures: string[];
}

/** Every encrypted file under `dir`, rotated by `rotateOne`, `jobs` at a time; one bad file never stops the others. */
export async function rotateTree(dir: string, options: { jobs: number; cwd: string; note: (line: string) => void; rotateOne: (file: string) => Promise<unknown> }): Promise<TreeRotation> {
  const files = await encryptedFiles([dir], true, options.note);
  const results = await mapLimited(files, options.jobs, async (file) => {
    try {
      await options.rotateOne(file);
      return { file, ok: true, detail: '' };
    } catch (e) {
      return { file, ok: false, detail: describeError(e).message };
    }
  });
  const failures = results.filter((r) => !r.ok).map((r) => (r.detail.includes(r.file) ? r.detail : `${displayPath(r.file, options.cwd)}: ${r.detail}`));
  return { rotated: results.length - failures.length, failures };
}

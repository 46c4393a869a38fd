import { readFileSync } from 'node:fs';
import { describeError } from '../errors.js';
import { readStore } from '../formats/detect.js';
import { formatForPath } from '../formats/format.js';
import { displayPath, encryptedFiles } from '../files/walk.js';
import { mapLimited } from '../files/map-limited.js';
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

export interface TreeRotation {
  rotated: number;
  /** Files left alone because their data key is not past the age asked for. */
  notDue: number;
  /** One line per file whose data key date cannot be told (left alone), naming it. */
  undated: string[];
  /** One line per file that failed, naming it. */
  failures: string[];
}

/** What `select` says of a file: rotate it, or why not. */
export type Selection = 'due' | 'not due' | 'age unknown';

export interface TreeRotationOptions {
  jobs: number;
  cwd: string;
  note: (line: string) => void;
  rotateOne: (file: string) => Promise<unknown>;
  /** Which files to rotate (`rotate --older-than`); default: all. */
  select?: (file: string) => Promise<Selection>;
  /** Hears each file's outcome as it is known, with the number of files (progress). */
  tick?: (file: string, outcome: 'rotated' | Selection | 'failed', total: number) => void;
}

/** Every encrypted file under `dir` that `select` picks, rotated by `rotateOne`, `jobs` at a time; one bad file never stops the others. */
export async function rotateTree(dir: string, options: TreeRotationOptions): Promise<TreeRotation> {
  const files = await encryptedFiles([dir], true, options.note);
  const results = await mapLimited(files, options.jobs, async (file) => {
    let result: { file: string; outcome: 'rotated' | Selection | 'failed'; detail: string };
    try {
      const selection = options.select ? await options.select(file) : 'due';
      if (selection === 'due') {
        await options.rotateOne(file);
        result = { file, outcome: 'rotated', detail: '' };
      } else {
        result = { file, outcome: selection, detail: selection === 'age unknown' ? 'no created_at in the metadata and no git history (or a date in the future): not rotated' : '' };
      }
    } catch (e) {
      result = { file, outcome: 'failed', detail: describeError(e).message };
    }
    options.tick?.(file, result.outcome, files.length);
    return result;
  });
  const lines = (outcome: string): string[] => results.filter((r) => r.outcome === outcome).map((r) => (r.detail.includes(r.file) ? r.detail : `${displayPath(r.file, options.cwd)}: ${r.detail}`));
  return {
    rotated: results.filter((r) => r.outcome === 'rotated').length,
    notDue: results.filter((r) => r.outcome === 'not due').length,
    undated: lines('age unknown'),
    failures: lines('failed'),
  };
}

/** `rotate --older-than`: whether the file's data key is past `maxDays` (src/rekey/key-date.ts). */
export async function selectOlderThan(file: string, maxDays: number, now: Date): Promise<Selection> {
  const { parsed } = await readStore(readFileSync(file), formatForPath(file), { file, needMetadata: true });
  const due = olderThan(await dataKeyDate(file, readMetadata(parsed.metadata!)), maxDays, now);
  return due === undefined ? 'age unknown' : due ? 'due' : 'not due';
}

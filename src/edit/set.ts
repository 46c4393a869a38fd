import { readFileSync } from 'node:fs';
import { TsopsError } from '../errors.js';
import { emitAs, type EmitOptions } from '../formats/format.js';
import { readStore } from '../formats/detect.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import type { KeyOptions, MasterKeyType } from '../keys/masterkey.js';
import { OpenedFile } from '../sops/opened-file.js';
import { formatPath, setAtPath, unsetAtPath, type PathStep } from '../sops/tree-edit.js';
import { jsonStore } from '../formats/json/store.js';
import type { FormatName, Node } from '../tree.js';

export interface TreeChangeRequest {
  file: string;
  format: FormatName;
  path: PathStep[];
  keys: KeyOptions;
  ignoreMac?: boolean;
  decryptionOrder?: MasterKeyType[];
  emit?: EmitOptions;
  /** Written in this format (sops's --output-type); default: the input format. */
  outputFormat?: FormatName;
  /** sops's --idempotent: a change that changes nothing writes nothing. Otherwise the file is always rewritten (new lastmodified and MAC). */
  idempotent?: boolean;
}

export type ChangeOutcome = 'written' | 'unchanged';

/**
 * `set`: decrypt, put the value at the path, re-encrypt with the same data key;
 * only the changed value gets new ciphertext. With `idempotent`, a value that
 * is already there leaves the file untouched (no new lastmodified or MAC).
 */
export async function setValue(req: TreeChangeRequest & { value: Node }): Promise<ChangeOutcome> {
  return change(req, (doc) => setAtPath(doc, req.path, req.value));
}

/** `unset`: remove a map key or list element. A missing one is an error unless `idempotent`. */
export async function unsetValue(req: TreeChangeRequest): Promise<ChangeOutcome> {
  return change({ ...req, idempotent: true }, (doc) => {
    const removed = unsetAtPath(doc, req.path);
    if (!removed && !req.idempotent) throw new TsopsError(`key not found: ${formatPath(req.path)}`);
    return removed;
  });
}

async function change(req: TreeChangeRequest, apply: (doc: import('../tree.js').MapNode) => boolean): Promise<ChangeOutcome> {
  const { format, parsed: file } = await readStore(readFileSync(req.file), req.format, { file: req.file, needMetadata: true });
  using opened = await OpenedFile.open(file, { keepIvs: true, ignoreMac: req.ignoreMac, keys: req.keys, decryptionOrder: req.decryptionOrder });
  const doc = file.documents[0];
  if (!doc) throw new TsopsError('the file has no document');
  if (!apply(doc) && req.idempotent) return 'unchanged';
  opened.reseal();
  const output = req.outputFormat && req.outputFormat !== req.format ? await emitAs(file, req.outputFormat, req.emit?.indent, req.file) : format.emit(file, req.emit);
  await writeFileAtomic(req.file, output);
  return 'written';
}

/** A `set` value is JSON (as in sops); objects keep their key order, integers stay exact. */
export async function parseJsonValue(text: string): Promise<Node> {
  const json = await jsonStore.load();
  try {
    const parsed = json.parse(Buffer.from(`{"value":${text}\n}`, 'utf8'));
    const entry = parsed.documents[0]?.items.find((i) => i.kind === 'entry');
    if (!entry || entry.kind !== 'entry' || parsed.documents[0]!.items.filter((i) => i.kind === 'entry').length !== 1) throw new Error('not one value');
    return entry.value;
  } catch {
    throw new TsopsError('the value is not valid JSON (strings need quotes: \'"text"\')', 'bad-set-argument');
  }
}

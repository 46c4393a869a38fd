import { readFileSync } from 'node:fs';
import { MalformedFileError, NoKeyError } from '../errors.js';
import { loadFormat, type Format } from '../formats/format.js';
import { readStore } from '../formats/detect.js';
import type { KeyOptions } from '../keys/masterkey.js';
import { decryptDocument, forgetDecrypted, reencryptDocument, type DecryptedDocument } from '../sops/index.js';
import type { ParsedFile, FormatName } from '../tree.js';
import { mergeDocuments, type MergeConflict } from './merge-tree.js';

export interface MergeInput {
  /** %O, %A, %B: git's temp files for the common ancestor, ours (also the output) and theirs. */
  base: string;
  ours: string;
  theirs: string;
  format: FormatName;
  keys: KeyOptions;
}

export type MergeResult =
  /** The merged file, encrypted, ready to replace %A. */
  | { kind: 'merged'; output: Uint8Array }
  /** Both sides changed the same keys: `output` holds every other change; the conflicts need resolving. */
  | { kind: 'conflict'; output: Uint8Array; conflicts: MergeConflict[]; sealed: DecryptedDocument; format: Format }
  /** Not mergeable at the value level (plaintext, no keys, different shapes): let git merge the text. */
  | { kind: 'text'; reason: string };

interface Side {
  file: ParsedFile;
  decrypted: DecryptedDocument;
}

/**
 * Merges three versions of an encrypted file key by key, in memory. The result
 * keeps our layout; it is sealed with our data key, or with theirs when only
 * their side rotated it since the base (so a rotation is never undone).
 */
export async function mergeEncryptedFiles(input: MergeInput): Promise<MergeResult> {
  const format = await loadFormat(input.format);
  const sides: Side[] = [];
  try {
    const base = await openSide(format, input.base, input.keys, true);
    if (base) sides.push(base);
    const ours = await openSide(format, input.ours, input.keys, false);
    if (!ours) return { kind: 'text', reason: 'our version is not an encrypted file' };
    sides.push(ours);
    const theirs = await openSide(format, input.theirs, input.keys, false);
    if (!theirs) return { kind: 'text', reason: 'their version is not an encrypted file' };
    sides.push(theirs);
    if (ours.file.documents.length !== theirs.file.documents.length || (base && base.file.documents.length !== ours.file.documents.length)) {
      return { kind: 'text', reason: 'the versions have different numbers of documents' };
    }

    const conflicts: MergeConflict[] = [];
    ours.file.documents.forEach((doc, i) => conflicts.push(...mergeDocuments(base?.file.documents[i], doc, theirs.file.documents[i]!)));

    const sealWith = theirRotation(base, ours, theirs) ? theirs.decrypted : ours.decrypted;
    reencryptDocument(ours.file, sealWith);
    const output = format.emit(ours.file);
    // The caller keeps the conflicts under the same key after this function has wiped its own copies.
    if (conflicts.length) return { kind: 'conflict', output, conflicts, sealed: { ...sealWith, dataKey: Buffer.from(sealWith.dataKey) }, format };
    return { kind: 'merged', output };
  } catch (e) {
    // No key here, or a version that is not a sound encrypted file: git's own text merge decides.
    if (e instanceof NoKeyError || e instanceof MalformedFileError) return { kind: 'text', reason: e.message };
    throw e;
  } finally {
    for (const s of sides) forgetDecrypted(s.decrypted);
  }
}

async function openSide(format: Format, path: string, keys: KeyOptions, optional: boolean): Promise<Side | undefined> {
  const bytes = readFileSync(path);
  if (optional && bytes.length === 0) return undefined;
  const file = (await readStore(bytes, format.name, { file: path, needMetadata: true })).parsed;
  if (!file.metadata || file.format !== format.name) return undefined;
  const decrypted = await decryptDocument(file, { keys, forReencryption: true });
  return { file, decrypted };
}

function theirRotation(base: Side | undefined, ours: Side, theirs: Side): boolean {
  if (!base) return false;
  const same = (a: Side, b: Side): boolean => Buffer.from(a.decrypted.dataKey).equals(Buffer.from(b.decrypted.dataKey));
  return same(base, ours) && !same(base, theirs);
}

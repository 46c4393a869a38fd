import { readFileSync } from 'node:fs';
import { DecryptionError, KeyWrapError, MacMismatchError, MalformedFileError, NoKeyError } from '../errors.js';
import { loadFormat, type Format } from '../formats/format.js';
import { readStore } from '../formats/detect.js';
import type { KeyOptions } from '../keys/masterkey.js';
import type { Metadata } from '../sops/index.js';
import { looksEncrypted } from '../enc-string.js';
import { OpenedFile } from '../sops/opened-file.js';
import { DEFAULT_RULE } from '../sops/rules.js';
import { formatPath, type PathStep } from '../sops/tree-edit.js';
import type { FormatName, ListNode, MapNode } from '../tree.js';
import { mergeKeyGroups } from './merge-keys.js';
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
  | { kind: 'merged'; output: Uint8Array; notes: string[] }
  /** Both sides changed the same keys: `output` holds every other change; the conflicts need resolving, sealed with `sealedWith`, which the caller disposes. */
  | { kind: 'conflict'; output: Uint8Array; conflicts: MergeConflict[]; sealedWith: OpenedFile; format: Format; notes: string[] }
  /** Merging here would weaken the file (tampered side, policy change, new plaintext, keys that cannot be merged): %A stays ours. */
  | { kind: 'refused'; reason: string }
  /** Not mergeable at the value level (plaintext, no keys, different shapes): let git merge the text. */
  | { kind: 'text'; reason: string };

interface Side {
  label: string;
  opened: OpenedFile;
  /** The values stored without encryption, by path: what nobody needs a key to write. */
  plain: Map<string, string>;
}

class Refusal extends Error {}

/**
 * Merges three versions of an encrypted file key by key, in memory. Every
 * version's MAC is checked first; a change of encryption policy or a new
 * plaintext value stops the merge. Master keys merge three-way; when a key was
 * removed on either side, or the sides hold different data keys, the result
 * gets a fresh data key, so a merge never hands a removed recipient what is
 * written afterwards.
 */
export async function mergeEncryptedFiles(input: MergeInput): Promise<MergeResult> {
  const format = await loadFormat(input.format);
  const sides: Side[] = [];
  try {
    const base = await openSide(format, input.base, 'base', input.keys, true);
    if (base) sides.push(base);
    const ours = await openSide(format, input.ours, 'our', input.keys, false);
    if (!ours) return { kind: 'text', reason: 'our version is not an encrypted file' };
    sides.push(ours);
    const theirs = await openSide(format, input.theirs, 'their', input.keys, false);
    if (!theirs) return { kind: 'text', reason: 'their version is not an encrypted file' };
    sides.push(theirs);
    if (ours.opened.documents.length !== theirs.opened.documents.length || (base && base.opened.documents.length !== ours.opened.documents.length)) {
      return { kind: 'text', reason: 'the versions have different numbers of documents' };
    }
    checkPolicy(base, ours, theirs);
    checkPlaintext(base, ours, theirs);
    const keys = mergeKeyGroups(base?.opened.metadata, ours.opened.metadata, theirs.opened.metadata);
    if (!keys.ok) throw new Refusal(`master keys cannot be merged: ${keys.reason}`);

    const conflicts: MergeConflict[] = [];
    ours.opened.documents.forEach((doc, i) => conflicts.push(...mergeDocuments(base?.opened.documents[i], doc, theirs.opened.documents[i]!)));

    const notes: string[] = [];
    if (keys.addedToOurs.length) notes.push(`master keys added by their side: ${keys.addedToOurs.join(', ')}`);
    if (keys.removedFromOurs.length) notes.push(`master keys removed by their side: ${keys.removedFromOurs.join(', ')}`);
    if (keys.changed || keys.removed || !ours.opened.sameDataKey(theirs.opened)) {
      try {
        await ours.opened.replaceDataKey(keys.groups, keys.threshold, input.keys);
      } catch (e) {
        if (e instanceof KeyWrapError) throw new Refusal(`cannot wrap a fresh data key for the merged master keys: ${e.message}`);
        throw e;
      }
      notes.push('sealed with a fresh data key (master keys changed, or the branches hold different data keys)');
    }
    ours.opened.reseal();
    const output = format.emit(ours.opened.file);
    // The caller keeps the conflicts under the same key after this function has wiped its own copies.
    if (conflicts.length) return { kind: 'conflict', output, conflicts, sealedWith: ours.opened.clone(), format, notes };
    return { kind: 'merged', output, notes };
  } catch (e) {
    if (e instanceof Refusal) return { kind: 'refused', reason: e.message };
    // No key here: git's own text merge of the ciphertext, which conflicts wherever both sides changed.
    if (e instanceof NoKeyError) return { kind: 'text', reason: 'cannot decrypt every version with your keys' };
    throw e;
  } finally {
    for (const s of sides) s.opened.dispose();
  }
}

async function openSide(format: Format, path: string, label: string, keys: KeyOptions, optional: boolean): Promise<Side | undefined> {
  const bytes = readFileSync(path);
  if (optional && bytes.length === 0) return undefined;
  try {
    const file = (await readStore(bytes, format.name, { file: path, needMetadata: true })).parsed;
    // A version read as another store than its name says goes to git's text merge.
    if (!file.metadata || file.format !== format.name) return undefined;
    const plain = new Map<string, string>();
    for (const doc of file.documents) storedPlaintext(doc, [], plain);
    return { label, opened: await OpenedFile.open(file, { keys, keepIvs: true }), plain };
  } catch (e) {
    // A version that does not verify was changed without the data key, or is damaged: never merged.
    if (e instanceof MacMismatchError || e instanceof DecryptionError || e instanceof MalformedFileError) throw new Refusal(`the ${label} version does not verify: ${e.message}`);
    throw e;
  }
}

function storedPlaintext(node: MapNode | ListNode, path: PathStep[], out: Map<string, string>): void {
  node.items.forEach((item, i) => {
    if (item.kind === 'comment') return;
    const here = item.kind === 'entry' ? [...path, item.key] : [...path, i];
    const value = item.kind === 'entry' ? item.value : item;
    if (value.kind !== 'scalar') return storedPlaintext(value, here, out);
    if (value.type === 'null' || value.value === '' || (typeof value.value === 'string' && looksEncrypted(value.value))) return;
    const text = value.value instanceof Uint8Array ? Buffer.from(value.value).toString('base64') : String(value.value);
    out.set(JSON.stringify(here), `${value.type}:${text}`);
  });
}

function policyOf(m: Metadata): string {
  const rule = m.rule ?? DEFAULT_RULE;
  return `${rule.kind} '${rule.value}'${m.macOnlyEncrypted ? ' with mac_only_encrypted' : ''}`;
}

/** Any change of what gets encrypted or authenticated is a decision for a person, not a merge. */
function checkPolicy(base: Side | undefined, ours: Side, theirs: Side): void {
  const reference = base ?? ours;
  for (const side of base ? [ours, theirs] : [theirs]) {
    const was = policyOf(reference.opened.metadata);
    const now = policyOf(side.opened.metadata);
    if (was !== now) throw new Refusal(`the ${side.label} version changes the encryption policy from ${was} to ${now}; merge by hand`);
  }
}

/** A value stored unencrypted that the other versions did not have is refused: it may be a secret. */
function checkPlaintext(base: Side | undefined, ours: Side, theirs: Side): void {
  for (const [side, reference] of [[ours, base ?? theirs], [theirs, base ?? ours]] as const) {
    for (const [path, value] of side.plain) {
      const was = reference.plain.get(path);
      if (was === value) continue;
      const where = formatPath(JSON.parse(path) as PathStep[]);
      throw new Refusal(`the ${side.label} version ${was === undefined ? 'adds' : 'changes'} the unencrypted value at ${where}; merge by hand`);
    }
  }
}

import { FileAlreadyEncryptedError, KeyWrapError, MacMismatchError, MetadataNotFoundError, NoDocumentError } from '../errors.js';
import { createKeyring } from '../keys/index.js';
import { findKeyKind } from '../keys/registry.js';
import { keyIdentity, type KeyOptions, type KeyRecord, type KeySpec, type MasterKeyType } from '../keys/masterkey.js';
import type { MapNode, ParsedFile } from '../tree.js';
import { open, parseSealed, seal } from './cipher.js';
import { newDataKey, unwrapDataKey, wrapDataKey } from './datakey.js';
import { readMetadata, SOPS_FORMAT_VERSION, writeMetadata, type Metadata } from './metadata.js';
import { DEFAULT_RULE, EncryptionPolicy, type EncryptionRule } from './rules.js';
import { checkStructureBinding, STRUCTURE_FIELD, structureBinding, type StructureCheck } from './structure.js';
import { decryptTree, encryptTree, IvCache } from './tree-crypto.js';
import { macTimestamp, nowTimestamp } from './values.js';

export type { EncryptionRule } from './rules.js';
export type { Metadata } from './metadata.js';

export interface EncryptSettings {
  /** One group holds the whole data key; several groups split it with Shamir. */
  keyGroups: KeySpec[][];
  shamirThreshold?: number;
  /** Default: values under keys ending in `_unencrypted` stay plaintext. */
  rule?: EncryptionRule;
  macOnlyEncrypted?: boolean;
}

export interface DecryptOptions {
  ignoreMac?: boolean;
  /** Remember each value's IV so that re-encrypting keeps unchanged ciphertext (edit, set); costs memory on large files. */
  forReencryption?: boolean;
  decryptionOrder?: MasterKeyType[];
  keys?: KeyOptions;
}

/** What decryption leaves behind so the file can be re-encrypted with minimal change. */
export interface DecryptedDocument {
  metadata: Metadata;
  dataKey: Uint8Array;
  ivs: IvCache;
}

/** Encrypts a plaintext file in place: values become ENC strings and `file.metadata` is set. */
export async function encryptDocument(file: ParsedFile, settings: EncryptSettings, keys?: KeyOptions): Promise<void> {
  if (file.metadata) throw new FileAlreadyEncryptedError();
  if (file.documents.length === 0) throw new NoDocumentError();
  const binary = file.format === 'binary';
  if (binary && (settings.rule || settings.macOnlyEncrypted)) {
    (file.warnings ??= []).push('binary files are encrypted whole: encryption rules and mac_only_encrypted are ignored');
  }
  const rule = binary ? undefined : settings.rule;
  const macOnlyEncrypted = binary ? false : Boolean(settings.macOnlyEncrypted);
  const policy = new EncryptionPolicy(rule ?? DEFAULT_RULE);
  const dataKey = newDataKey();
  try {
    const keyGroups = await wrapDataKey(dataKey, settings.keyGroups, settings.shamirThreshold, createKeyring(keys));
    const metadata: Metadata = {
      keyGroups,
      lastModified: '',
      mac: '',
      macOnlyEncrypted,
      version: SOPS_FORMAT_VERSION,
    };
    if (keyGroups.length > 1) metadata.shamirThreshold = settings.shamirThreshold && settings.shamirThreshold > 0 ? settings.shamirThreshold : keyGroups.length;
    if (!binary) metadata.rule = rule ?? DEFAULT_RULE;
    sealTree(file, metadata, dataKey, policy);
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Re-encrypts a file that {@link decryptDocument} decrypted (after edits), with
 * the same data key and master keys: unchanged values keep their exact
 * ciphertext; `lastmodified` and the MAC are renewed.
 */
export function reencryptDocument(file: ParsedFile, decrypted: DecryptedDocument): void {
  if (file.metadata) throw new FileAlreadyEncryptedError();
  const metadata = { ...decrypted.metadata };
  sealTree(file, metadata, decrypted.dataKey, new EncryptionPolicy(metadata.rule ?? DEFAULT_RULE), decrypted.ivs);
}

function sealTree(file: ParsedFile, metadata: Metadata, dataKey: Uint8Array, policy: EncryptionPolicy, ivs?: IvCache): void {
  const mac = encryptTree(file.documents, dataKey, policy, metadata.macOnlyEncrypted, ivs);
  metadata.lastModified = nowTimestamp();
  metadata.mac = seal(dataKey, Buffer.from(mac, 'utf8'), macTimestamp(metadata.lastModified), 'str');
  metadata.structure = structureBinding(file.documents, dataKey);
  file.metadata = writeMetadata(metadata);
}

/** Decrypts in place: values become plaintext and `file.metadata` is removed, after the MAC is verified. */
export async function decryptDocument(file: ParsedFile, options: DecryptOptions = {}): Promise<DecryptedDocument> {
  if (!file.metadata) throw new MetadataNotFoundError();
  const metadata = readMetadata(file.metadata);
  const dataKey = await unwrapDataKey(metadata.keyGroups, metadata.shamirThreshold, createKeyring(options.keys), options.decryptionOrder);
  try {
    // Computed on the file as read, checked after the values and the MAC so that what sops catches fails with sops's exit code.
    const structure = !options.ignoreMac && metadata.structure ? checkStructureBinding(metadata.structure, file.documents, dataKey) : 'ok';
    const ivs = new IvCache();
    const policy = new EncryptionPolicy(metadata.rule ?? DEFAULT_RULE);
    const result = decryptTree(file.documents, dataKey, policy, metadata.macOnlyEncrypted, { keepBytes: file.format === 'binary', ...(options.forReencryption ? { ivs } : {}) });
    if (result.warnings.length) (file.warnings ??= []).push(...result.warnings);
    if (!options.ignoreMac) verifyMac(metadata, dataKey, result.mac);
    reportStructure(file, structure);
    file.metadata = undefined;
    return { metadata, dataKey, ivs };
  } catch (e) {
    dataKey.fill(0);
    throw e;
  }
}

function verifyMac(metadata: Metadata, dataKey: Uint8Array, computed: string): void {
  if (!metadata.mac) throw new MacMismatchError('MAC mismatch: the file has no MAC');
  const sealed = parseSealed(metadata.mac);
  let stored: string;
  try {
    // sops stores the MAC as a string and fails on any other type tag; so does tsops.
    if (!sealed || sealed.type !== 'str') throw new Error('malformed');
    stored = open(dataKey, sealed, macTimestamp(metadata.lastModified)).toString('utf8');
  } catch {
    throw new MacMismatchError('cannot decrypt the MAC: the MAC or lastmodified was changed');
  }
  if (stored !== computed) throw new MacMismatchError('MAC mismatch: the values do not match the MAC (the file was changed outside sops/tsops)');
}

function reportStructure(file: ParsedFile, result: StructureCheck): void {
  if (result === 'unknown-version') (file.warnings ??= []).push(`the ${STRUCTURE_FIELD} field has a version this tsops does not know; only the sops MAC was checked`);
  if (result === 'mismatch') throw new MacMismatchError('structure mismatch: keys were renamed, moved, added or removed, or a plaintext value changed, outside sops/tsops');
}

/** Forgets the secret material a decryption kept for re-encryption. */
export function forgetDecrypted(decrypted: DecryptedDocument): void {
  decrypted.dataKey.fill(0);
  decrypted.ivs.clear();
}

/** `filestatus`: sops metadata with a non-empty version and MAC. */
export function isEncrypted(file: ParsedFile): boolean {
  if (!file.metadata) return false;
  let version = '';
  let mac = '';
  for (const item of file.metadata.items) {
    if (item.kind !== 'entry' || item.value.kind !== 'scalar') continue;
    const key = item.key.toLowerCase();
    if (key === 'version') version = String(item.value.value ?? '');
    if (key === 'mac') mac = String(item.value.value ?? '');
  }
  return version !== '' && mac !== '';
}

/** The spec to re-wrap a stored key with; undefined for kinds tsops cannot use. */
export function specFromRecord(record: KeyRecord): KeySpec | undefined {
  return findKeyKind(record.type)?.keys?.fromRecord(record);
}

export interface KeyChanges {
  /** Added to the first key group, as sops's --add-* flags do. */
  add?: KeySpec[];
  /** Key identities (recipient, fingerprint, ARN...) removed from every group. */
  remove?: string[];
  /** Replaces the key groups entirely (updatekeys). */
  groups?: KeySpec[][];
  shamirThreshold?: number;
}

/**
 * A new data key for a decrypted file: every value re-encrypted, the key
 * wrapped for every master key (after the changes). Nobody who only ever had
 * the old data key can read what is written from now on.
 */
export async function rotateDocument(file: ParsedFile, decrypted: DecryptedDocument, changes: KeyChanges = {}, keys?: KeyOptions): Promise<void> {
  if (file.metadata) throw new FileAlreadyEncryptedError();
  const groups = changes.groups ?? changedGroups(decrypted.metadata.keyGroups, changes);
  const dataKey = newDataKey();
  try {
    const threshold = changes.shamirThreshold ?? decrypted.metadata.shamirThreshold;
    const keyGroups = await wrapDataKey(dataKey, groups, threshold, createKeyring(keys));
    const metadata: Metadata = { ...decrypted.metadata, keyGroups };
    delete metadata.shamirThreshold;
    if (keyGroups.length > 1) metadata.shamirThreshold = Math.min(threshold && threshold > 0 ? threshold : keyGroups.length, keyGroups.length);
    sealTree(file, metadata, dataKey, new EncryptionPolicy(metadata.rule ?? DEFAULT_RULE), decrypted.ivs);
  } finally {
    dataKey.fill(0);
  }
}

/**
 * The metadata for the same data key wrapped for other master keys (split
 * anew for several groups). Values, lastmodified and the MAC do not change:
 * the caller writes this metadata over the untouched encrypted file.
 */
export async function rewrapDataKey(decrypted: DecryptedDocument, groups: KeySpec[][], threshold?: number, keys?: KeyOptions): Promise<MapNode> {
  const keyGroups = await wrapDataKey(decrypted.dataKey, groups, threshold, createKeyring(keys));
  const metadata: Metadata = { ...decrypted.metadata, keyGroups };
  delete metadata.shamirThreshold;
  if (keyGroups.length > 1) metadata.shamirThreshold = Math.min(threshold && threshold > 0 ? threshold : keyGroups.length, keyGroups.length);
  return writeMetadata(metadata);
}

function changedGroups(current: KeyRecord[][], changes: KeyChanges): KeySpec[][] {
  const removed = new Set(changes.remove ?? []);
  const groups = current.map((group) =>
    group
      .filter((r) => !removed.has(keyIdentity(r)))
      .map((r) => {
        const spec = specFromRecord(r);
        if (!spec) throw new KeyWrapError(`cannot re-encrypt the data key for a ${r.type} key (not supported by tsops); remove it with --rm`);
        return spec;
      }),
  );
  const present = new Set(groups.flat().map(keyIdentity));
  for (const spec of changes.add ?? []) if (!present.has(keyIdentity(spec))) groups[0]!.push(spec);
  return groups.filter((g) => g.length > 0);
}

import { FileAlreadyEncryptedError, NoDocumentError } from '../errors.js';
import { createKeyring } from '../keys/index.js';
import { findKeyKind } from '../keys/registry.js';
import type { KeyOptions, KeyRecord, KeySpec } from '../keys/masterkey.js';
import type { ParsedFile } from '../tree.js';
import { seal } from './cipher.js';
import { newDataKey, wrapDataKey } from './datakey.js';
import { SOPS_FORMAT_VERSION, writeMetadata, type Metadata } from './metadata.js';
import { DEFAULT_RULE, EncryptionPolicy, type EncryptionRule } from './rules.js';
import { structureBinding } from './structure.js';
import { encryptTree, type IvCache } from './tree-crypto.js';
import { storeNamed } from '../formats/registry.js';
import { macTimestamp, nowTimestamp } from '../values.js';

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

/** Encrypts a plaintext file in place: values become ENC strings and `file.metadata` is set. */
export async function encryptDocument(file: ParsedFile, settings: EncryptSettings, keys?: KeyOptions): Promise<void> {
  if (file.metadata) throw new FileAlreadyEncryptedError();
  if (file.documents.length === 0) throw new NoDocumentError();
  const store = storeNamed(file.format);
  const whole = store.singleValued;
  if (whole && (settings.rule || settings.macOnlyEncrypted)) {
    (file.warnings ??= []).push(`${store.name} files are encrypted whole: encryption rules and mac_only_encrypted are ignored`);
  }
  const rule = whole ? undefined : settings.rule;
  const macOnlyEncrypted = whole ? false : Boolean(settings.macOnlyEncrypted);
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
    if (!whole) metadata.rule = rule ?? DEFAULT_RULE;
    sealTree(file, metadata, dataKey, policy);
  } finally {
    dataKey.fill(0);
  }
}

/** Encrypts the tree in place with `dataKey` and sets the metadata: MAC, lastmodified, structure binding. */
export function sealTree(file: ParsedFile, metadata: Metadata, dataKey: Uint8Array, policy: EncryptionPolicy, ivs?: IvCache): void {
  const mac = encryptTree(file.documents, dataKey, policy, metadata.macOnlyEncrypted, ivs);
  metadata.lastModified = nowTimestamp();
  metadata.mac = seal(dataKey, Buffer.from(mac, 'utf8'), macTimestamp(metadata.lastModified), 'str');
  metadata.structure = structureBinding(file.documents, dataKey);
  file.metadata = writeMetadata(metadata);
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

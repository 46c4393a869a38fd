import { FileAlreadyEncryptedError, MacMismatchError, MetadataNotFoundError, NoDocumentError } from '../errors.js';
import { createKeyring } from '../keys/index.js';
import type { KeyOptions, KeySpec, MasterKeyType } from '../keys/masterkey.js';
import type { ParsedFile } from '../tree.js';
import { open, parseSealed, seal } from './cipher.js';
import { newDataKey, unwrapDataKey, wrapDataKey } from './datakey.js';
import { readMetadata, SOPS_FORMAT_VERSION, writeMetadata, type Metadata } from './metadata.js';
import { DEFAULT_RULE, EncryptionPolicy, type EncryptionRule } from './rules.js';
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
  file.metadata = writeMetadata(metadata);
}

/** Decrypts in place: values become plaintext and `file.metadata` is removed, after the MAC is verified. */
export async function decryptDocument(file: ParsedFile, options: DecryptOptions = {}): Promise<DecryptedDocument> {
  if (!file.metadata) throw new MetadataNotFoundError();
  const metadata = readMetadata(file.metadata);
  const dataKey = await unwrapDataKey(metadata.keyGroups, metadata.shamirThreshold, createKeyring(options.keys), options.decryptionOrder);
  try {
    const ivs = new IvCache();
    const policy = new EncryptionPolicy(metadata.rule ?? DEFAULT_RULE);
    const result = decryptTree(file.documents, dataKey, policy, metadata.macOnlyEncrypted, { keepBytes: file.format === 'binary', ...(options.forReencryption ? { ivs } : {}) });
    if (result.warnings.length) (file.warnings ??= []).push(...result.warnings);
    if (!options.ignoreMac) verifyMac(metadata, dataKey, result.mac);
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
    if (!sealed) throw new Error('malformed');
    stored = open(dataKey, sealed, macTimestamp(metadata.lastModified)).toString('utf8');
  } catch {
    throw new MacMismatchError('cannot decrypt the MAC: the MAC or lastmodified was changed');
  }
  if (stored !== computed) throw new MacMismatchError('MAC mismatch: the values do not match the MAC (the file was changed outside sops/tsops)');
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

/**
 * An encrypted file, opened: the one owner of its data key while it is in
 * memory. Opening verifies the MAC and the structure binding and decrypts the
 * tree in place; the object then re-seals changed values, rotates or re-wraps
 * the data key, and zeroes it when disposed (`using`, or `dispose()` in a
 * `finally`). After that it refuses every use.
 */
import { FileAlreadyEncryptedError, KeyWrapError, MacMismatchError, MetadataNotFoundError, TsopsError } from '../errors.js';
import { createKeyring } from '../keys/index.js';
import { keyIdentity, type KeyOptions, type KeyRecord, type KeySpec, type MasterKeyType } from '../keys/masterkey.js';
import type { MapNode, ParsedFile } from '../tree.js';
import { open, parseSealed } from './cipher.js';
import { newDataKey, unwrapDataKey, wrapDataKey } from './datakey.js';
import { sealTree, specFromRecord } from './index.js';
import { readMetadata, writeMetadata, type Metadata } from './metadata.js';
import { DEFAULT_RULE, EncryptionPolicy } from './rules.js';
import { groupsNeeded } from './shamir.js';
import { checkStructureBinding, STRUCTURE_FIELD, type StructureCheck } from './structure.js';
import { decryptTree, IvCache } from './tree-crypto.js';
import { storeNamed } from '../formats/registry.js';
import { macTimestamp } from '../values.js';

export interface OpenFileOptions {
  ignoreMac?: boolean;
  /** Remember each value's IV so that re-sealing keeps unchanged ciphertext (edit, set); costs memory on large files. */
  keepIvs?: boolean;
  decryptionOrder?: MasterKeyType[];
  keys?: KeyOptions;
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

// Node 20.0-20.3 have no Symbol.dispose, which `using` needs (compiled by tsc or esbuild); the registered symbol is the one esbuild falls back to.
if (!Symbol.dispose) Object.defineProperty(Symbol, 'dispose', { value: Symbol.for('Symbol.dispose') });

export class DisposedFileError extends TsopsError {
  constructor() {
    super("internal error: an opened file was used after its data key was forgotten");
  }
}

export class OpenedFile implements Disposable {
  #metadata: Metadata;
  #dataKey: Buffer;
  #ivs: IvCache;
  #disposed = false;

  private constructor(
    /** The decrypted tree (metadata removed); re-sealing encrypts it in place. */
    readonly file: ParsedFile,
    metadata: Metadata,
    dataKey: Buffer,
    ivs: IvCache,
  ) {
    this.#metadata = metadata;
    this.#dataKey = dataKey;
    this.#ivs = ivs;
  }

  /** Decrypts `file` in place, after its MAC and structure binding are verified; the returned object owns the data key. */
  static async open(file: ParsedFile, options: OpenFileOptions = {}): Promise<OpenedFile> {
    if (!file.metadata) throw new MetadataNotFoundError();
    const metadata = readMetadata(file.metadata);
    const dataKey = await unwrapDataKey(metadata.keyGroups, metadata.shamirThreshold, createKeyring(options.keys), options.decryptionOrder, options.keys?.unwrappedBy);
    try {
      // Computed on the file as read, checked after the values and the MAC so that what sops catches fails with sops's exit code.
      const structure = !options.ignoreMac && metadata.structure ? checkStructureBinding(metadata.structure, file.documents, dataKey) : 'ok';
      const ivs = new IvCache();
      const policy = new EncryptionPolicy(metadata.rule ?? DEFAULT_RULE);
      const result = decryptTree(file.documents, dataKey, policy, metadata.macOnlyEncrypted, { keepBytes: storeNamed(file.format).singleValued, ...(options.keepIvs ? { ivs } : {}) });
      if (result.warnings.length) (file.warnings ??= []).push(...result.warnings);
      if (!options.ignoreMac) verifyMac(metadata, dataKey, result.mac);
      reportStructure(file, structure);
      file.metadata = undefined;
      return new OpenedFile(file, metadata, dataKey, ivs);
    } catch (e) {
      dataKey.fill(0);
      throw e;
    }
  }

  /** The file's metadata as read (or as rotation left it); a copy, so callers cannot change what re-sealing writes. */
  get metadata(): Metadata {
    return { ...this.alive().#metadata };
  }

  /** The documents of the decrypted tree. */
  get documents(): MapNode[] {
    return this.alive().file.documents;
  }

  /** Whether both files hold the same data key (compared without copying it out). */
  sameDataKey(other: OpenedFile): boolean {
    return this.alive().#dataKey.equals(other.alive().#dataKey);
  }

  /**
   * Encrypts `target` (default: this file's own tree, after changes) with this
   * data key and master keys: values unchanged since opening keep their exact
   * ciphertext when the IVs were kept; lastmodified and the MAC are renewed.
   * `policy` overrides the encryption rule for a file of another kind sealed under the same key.
   */
  reseal(target: ParsedFile = this.file, policy?: Pick<Metadata, 'rule' | 'macOnlyEncrypted'>): void {
    this.alive();
    if (target.metadata) throw new FileAlreadyEncryptedError();
    const metadata = { ...this.#metadata, ...policy };
    sealTree(target, metadata, this.#dataKey, new EncryptionPolicy(metadata.rule ?? DEFAULT_RULE), this.#ivs);
  }

  /**
   * A new data key, wrapped for every master key after the changes; this
   * object forgets the old key and holds the new one. Nobody who only ever had
   * the old data key can read what is sealed from now on. The tree is not
   * sealed: call {@link reseal}.
   */
  async rotate(changes: KeyChanges = {}, keys?: KeyOptions): Promise<void> {
    this.alive();
    const groups = changes.groups ?? changedGroups(this.#metadata.keyGroups, changes);
    const threshold = changes.shamirThreshold ?? this.#metadata.shamirThreshold;
    const dataKey = newDataKey();
    try {
      const keyGroups = await wrapDataKey(dataKey, groups, threshold, createKeyring(keys));
      this.adopt(dataKey, withKeyGroups(this.#metadata, keyGroups, threshold));
    } catch (e) {
      dataKey.fill(0);
      throw e;
    }
  }

  /**
   * As {@link rotate} for a tree whose values come from several files (a
   * merge): the IVs kept from this file are dropped with the old key, and the
   * threshold is the one given (every group when undefined).
   */
  async replaceDataKey(groups: KeySpec[][], threshold: number | undefined, keys?: KeyOptions): Promise<void> {
    this.alive();
    const dataKey = newDataKey();
    try {
      const keyGroups = await wrapDataKey(dataKey, groups, threshold, createKeyring(keys));
      const metadata: Metadata = { ...this.#metadata, keyGroups };
      delete metadata.shamirThreshold;
      if (keyGroups.length > 1) metadata.shamirThreshold = threshold ?? keyGroups.length;
      this.#ivs.clear();
      this.adopt(dataKey, metadata);
    } catch (e) {
      dataKey.fill(0);
      throw e;
    }
  }

  /**
   * The metadata for the same data key wrapped for other master keys (split
   * anew for several groups). Values, lastmodified and the MAC do not change:
   * the caller writes it over the untouched encrypted file.
   */
  async rewrap(groups: KeySpec[][], threshold?: number, keys?: KeyOptions): Promise<MapNode> {
    this.alive();
    const keyGroups = await wrapDataKey(this.#dataKey, groups, threshold, createKeyring(keys));
    return writeMetadata(withKeyGroups(this.#metadata, keyGroups, threshold));
  }

  /** The master keys the data key is wrapped for, as specs to wrap a key with; fails on kinds tsops cannot use. */
  keySpecs(): KeySpec[][] {
    return this.alive().#metadata.keyGroups.map((group) =>
      group.map((record) => {
        const spec = specFromRecord(record);
        if (!spec) throw new KeyWrapError(`cannot wrap the data key for a ${record.type} key (not supported by tsops)`);
        return spec;
      }),
    );
  }

  /** A second owner of the same key and metadata (with no IVs), disposed on its own: for keeping the key past this object's life. */
  clone(): OpenedFile {
    this.alive();
    return new OpenedFile({ format: this.file.format, documents: [] }, { ...this.#metadata }, Buffer.from(this.#dataKey), new IvCache());
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Zeroes the data key and forgets the IVs; idempotent. */
  dispose(): void {
    this.#dataKey.fill(0);
    this.#ivs.clear();
    this.#disposed = true;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  private adopt(dataKey: Buffer, metadata: Metadata): void {
    this.#dataKey.fill(0);
    this.#dataKey = dataKey;
    this.#metadata = metadata;
  }

  private alive(): this {
    if (this.#disposed) throw new DisposedFileError();
    return this;
  }
}

function withKeyGroups(metadata: Metadata, keyGroups: KeyRecord[][], threshold: number | undefined): Metadata {
  const next: Metadata = { ...metadata, keyGroups };
  delete next.shamirThreshold;
  if (keyGroups.length > 1) next.shamirThreshold = Math.min(groupsNeeded(threshold, keyGroups.length), keyGroups.length);
  return next;
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

import { randomBytes } from 'node:crypto';
import { joinLines, KeyWrapError, MalformedFileError, NoKeyError, type KeyFailure } from '../errors.js';
import type { Keyring } from '../keys/index.js';
import { keyIdentity, type KeyRecord, type KeySpec, type MasterKeyType } from '../keys/masterkey.js';
import type { KeyKind } from '../keys/kind.js';
import { KEY_KINDS } from '../keys/registry.js';
import { DATA_KEY_BYTES } from './cipher.js';
import { combine, groupsNeeded, split } from './shamir.js';

export function newDataKey(): Buffer {
  return randomBytes(DATA_KEY_BYTES);
}

/**
 * Wraps the data key for every key of every group (docs/format.md#data-key, docs/format.md#key-groups): one group holds
 * the whole key; with several, each group holds one Shamir share. Any key that
 * fails fails the whole operation, as in sops.
 */
export async function wrapDataKey(dataKey: Uint8Array, groups: KeySpec[][], threshold: number | undefined, keyring: Keyring): Promise<KeyRecord[][]> {
  if (groups.length === 0) throw new KeyWrapError('no key groups to encrypt the data key for');
  if (groups.some((g) => g.length === 0)) throw new KeyWrapError('empty key group provided');
  const secrets = groups.length === 1 ? [Buffer.from(dataKey)] : split(dataKey, groups.length, effectiveThreshold(threshold, groups.length)).map((s) => Buffer.from(s));
  try {
    return await Promise.all(
      groups.map((group, i) =>
        Promise.all(
          group.map(async (spec) => {
            try {
              return await (await keyring.kind(spec.type)).wrap(spec, secrets[i]!);
            } catch (e) {
              throw new KeyWrapError(`could not encrypt the data key for ${spec.type} key ${keyIdentity(spec)}: ${reason(e)}`);
            }
          }),
        ),
      ),
    );
  } finally {
    for (const s of secrets) s.fill(0);
  }
}

function effectiveThreshold(threshold: number | undefined, groupCount: number): number {
  const t = groupsNeeded(threshold, groupCount);
  if (groupCount > 1 && (t < 2 || t > groupCount || groupCount > 255)) {
    throw new KeyWrapError(`shamir threshold ${t} is not possible with ${groupCount} key groups (it must be 2 to ${Math.min(groupCount, 255)})`);
  }
  return t;
}

/** sops tries the kinds that ask for it first (offline kinds before cloud calls), then the rest as stored. */
const DEFAULT_DECRYPTION_ORDER: readonly MasterKeyType[] = (KEY_KINDS as readonly KeyKind[])
  .filter((kind) => kind.decryptionPriority !== undefined)
  .sort((a, b) => a.decryptionPriority! - b.decryptionPriority!)
  .map((kind) => kind.type as MasterKeyType);

/**
 * Recovers the data key: every group is tried; inside a group, keys are tried in
 * decryption order until one works. One group must succeed, or with several
 * groups at least `threshold` of them. The error lists every key tried and why.
 */
export async function unwrapDataKey(
  groups: KeyRecord[][],
  threshold: number | undefined,
  keyring: Keyring,
  order: readonly MasterKeyType[] = DEFAULT_DECRYPTION_ORDER,
  unwrappedBy?: string[],
): Promise<Buffer> {
  const failures: KeyFailure[] = [];
  const needed = groups.length === 1 ? 1 : Math.min(groupsNeeded(threshold, groups.length), groups.length);
  const parts: Buffer[] = [];
  const missing: number[] = [];
  for (let g = 0; g < groups.length && parts.length < needed; g++) {
    const part = await unwrapFromGroup(groups[g]!, g, keyring, order, failures, unwrappedBy);
    if (part) parts.push(part);
    else missing.push(g);
  }
  if (parts.length < needed) {
    for (const p of parts) p.fill(0);
    throw new NoKeyError(describeFailure(groups.length, needed, parts.length, missing, failures), failures);
  }
  if (groups.length === 1) {
    const key = parts[0]!;
    if (key.length !== DATA_KEY_BYTES) {
      key.fill(0);
      throw new MalformedFileError(`the recovered data key has ${key.length} bytes, expected ${DATA_KEY_BYTES}`);
    }
    return key;
  }
  try {
    const key = Buffer.from(combine(parts));
    if (key.length !== DATA_KEY_BYTES) throw new MalformedFileError(`the recovered data key has ${key.length} bytes, expected ${DATA_KEY_BYTES}`);
    return key;
  } finally {
    for (const p of parts) p.fill(0);
  }
}

async function unwrapFromGroup(group: KeyRecord[], index: number, keyring: Keyring, order: readonly MasterKeyType[], failures: KeyFailure[], unwrappedBy?: string[]): Promise<Buffer | undefined> {
  for (const record of sortByOrder(group, order)) {
    try {
      const kind = await keyring.kind(record.type);
      const part = Buffer.from(await kind.unwrap(record));
      unwrappedBy?.push(keyIdentity(record));
      return part;
    } catch (e) {
      failures.push({ group: index, key: keyIdentity(record), type: record.type, reason: reason(e) });
    }
  }
  return undefined;
}

function sortByOrder(group: KeyRecord[], order: readonly MasterKeyType[]): KeyRecord[] {
  const rank = (r: KeyRecord): number => {
    const i = order.indexOf(r.type);
    return i < 0 ? order.length : i;
  };
  return group.map((r, i) => ({ r, i })).sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i).map((x) => x.r);
}

function describeFailure(groupCount: number, needed: number, got: number, missing: number[], failures: KeyFailure[]): string {
  const tried = failures.map((f) => `${f.type} ${f.key}: ${f.reason}`).join('; ');
  if (groupCount === 1) return `could not decrypt the data key with any master key (${tried || 'no keys'})`;
  const groups = missing.map((g) => g + 1).join(', ');
  return `could not recover the data key: ${got} of ${needed} required key groups decrypted; missing group${missing.length === 1 ? '' : 's'} ${groups} of ${groupCount} (${tried})`;
}

function reason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return joinLines(msg, ' ') || 'unknown failure';
}

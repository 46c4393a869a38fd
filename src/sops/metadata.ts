import { MalformedFileError } from '../errors.js';
import type { KeyFieldValue, KeyRecord, MasterKeyType } from '../keys/masterkey.js';
import { findKeyKind, KEY_KINDS_BY_LOAD_RANK } from '../keys/registry.js';
import { list, map, scalar, str, type MapNode, type Node } from '../tree.js';
import { RULE_KINDS, type EncryptionRule } from './rules.js';
import { STRUCTURE_FIELD } from './structure.js';
import { macTimestamp, ValueFormatError } from '../values.js';

/** The `sops` metadata block as a typed model (docs/format.md#metadata). */
export interface Metadata {
  keyGroups: KeyRecord[][];
  /** Present only with several key groups. */
  shamirThreshold?: number;
  lastModified: string;
  /** The encrypted MAC (`ENC[...]`); empty when the file has none. */
  mac: string;
  macOnlyEncrypted: boolean;
  /** As stored; undefined means the default `_unencrypted` suffix (binary files store none). */
  rule?: EncryptionRule;
  version: string;
  /** tsops's structure binding (docs/structure-binding.md); sops neither writes nor reads it. */
  structure?: string;
}

/** The version tsops writes: the sops release whose format it matches. */
export const SOPS_FORMAT_VERSION = '3.13.2';

// The order in which sops loads one group's keys.
const KEY_TYPES: readonly MasterKeyType[] = KEY_KINDS_BY_LOAD_RANK.map((kind) => kind.type as MasterKeyType);

const SEMVER = /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

export function readMetadata(tree: MapNode): Metadata {
  const fields = lowerCaseFields(tree);

  const rules: EncryptionRule[] = [];
  for (const kind of RULE_KINDS) {
    const v = fields.get(kind);
    if (v !== undefined && v.kind !== 'scalar') throw new MalformedFileError(`metadata field ${kind} is not a scalar`);
    if (v !== undefined && v.value !== null && String(v.value) !== '') rules.push({ kind, value: scalarText(v, kind) });
  }
  if (rules.length > 1) throw new MalformedFileError('metadata sets more than one of the encryption rules (suffixes and regexes)');

  const lastModified = requiredText(fields, 'lastmodified');
  try {
    macTimestamp(lastModified);
  } catch (e) {
    if (e instanceof ValueFormatError) throw new MalformedFileError('metadata field lastmodified is not an RFC 3339 time');
    throw e;
  }
  const version = requiredText(fields, 'version');
  if (!SEMVER.test(version) && !version.startsWith('1.')) throw new MalformedFileError(`metadata version '${version.slice(0, 40)}' is not a semantic version`);

  const topGroup: KeyRecord[] = [];
  for (const type of KEY_TYPES) topGroup.push(...readKeyList(fields.get(type), type));
  let keyGroups: KeyRecord[][];
  if (topGroup.length > 0) {
    keyGroups = [topGroup];
  } else {
    const groups = fields.get('key_groups');
    keyGroups = groups && groups.kind === 'list' ? groups.items.filter(isNode).map(readGroup) : [];
  }
  if (keyGroups.length === 0 || keyGroups.every((g) => g.length === 0)) throw new MalformedFileError('no master keys found in the file metadata');

  const metadata: Metadata = {
    keyGroups,
    lastModified,
    mac: optionalText(fields, 'mac') ?? '',
    macOnlyEncrypted: readBool(fields.get('mac_only_encrypted')),
    version,
  };
  const threshold = fields.get('shamir_threshold');
  if (threshold && threshold.kind === 'scalar' && threshold.value !== null && String(threshold.value) !== '') {
    const n = Number(typeof threshold.value === 'bigint' ? threshold.value : String(threshold.value));
    if (!Number.isInteger(n) || n < 0 || n > 255) throw new MalformedFileError('metadata field shamir_threshold is not a number from 0 to 255');
    if (n > 0) metadata.shamirThreshold = n;
  }
  if (rules[0]) metadata.rule = rules[0];
  const structure = optionalText(fields, STRUCTURE_FIELD);
  if (structure) metadata.structure = structure;
  return metadata;
}

/** The metadata as a tree in sops's order: keys sorted at every level (docs/format.md#metadata). */
export function writeMetadata(m: Metadata): MapNode {
  const out: [string, Node][] = [];
  const single = m.keyGroups.length === 1;
  const byType = single ? groupByType(m.keyGroups[0]!) : undefined;
  const put = (key: string, node: Node | undefined): void => {
    if (node) out.push([key, node]);
  };
  const ruleFor = (kind: string): Node | undefined => (m.rule?.kind === kind ? str(m.rule.value) : undefined);

  if (byType) for (const [type, node] of byType) put(type, node);
  for (const kind of RULE_KINDS) put(kind, ruleFor(kind));
  if (!single) put('key_groups', list(m.keyGroups.map(writeGroup)));
  put('lastmodified', str(m.lastModified));
  put('mac', str(m.mac));
  if (m.macOnlyEncrypted) put('mac_only_encrypted', scalar('bool', true));
  if (m.shamirThreshold) put('shamir_threshold', scalar('int', BigInt(m.shamirThreshold)));
  if (m.structure) put(STRUCTURE_FIELD, str(m.structure));
  put('version', str(m.version));
  // sops writes the block's fields sorted by name.
  out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return map(out);
}

function groupByType(group: KeyRecord[]): Map<MasterKeyType, Node> {
  const lists = new Map<MasterKeyType, Node>();
  for (const type of KEY_TYPES) {
    const keys = group.filter((k) => k.type === type);
    if (keys.length) lists.set(type, list(keys.map(writeKey)));
  }
  return lists;
}

function writeGroup(group: KeyRecord[]): Node {
  const lists = groupByType(group);
  const out: [string, Node][] = [];
  for (const kind of KEY_KINDS_BY_LOAD_RANK) {
    const l = lists.get(kind.type as MasterKeyType);
    if (l) out.push([kind.type, l]);
    else if (kind.record.listedInEveryGroup) out.push([kind.type, list([])]);
  }
  // sops writes a group's fields sorted by name.
  out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return map(out);
}

function writeKey(key: KeyRecord): Node {
  const fields = { ...findKeyKind(key.type)?.record.alwaysWritten, ...key.fields };
  const names = Object.keys(fields).sort();
  return map(
    names.map((name): [string, Node] => {
      const v = fields[name]!;
      if (typeof v === 'string') return [name, str(v)];
      return [name, map(Object.keys(v).sort().map((k): [string, Node] => [k, str(v[k]!)]))];
    }),
  );
}

function readGroup(node: Node): KeyRecord[] {
  if (node.kind !== 'map') throw new MalformedFileError('metadata key_groups entry is not a map');
  const fields = lowerCaseFields(node);
  const group: KeyRecord[] = [];
  for (const type of KEY_TYPES) group.push(...readKeyList(fields.get(type), type));
  return group;
}

function readKeyList(node: Node | undefined, type: MasterKeyType): KeyRecord[] {
  if (!node || (node.kind === 'scalar' && (node.value === null || node.value === ''))) return [];
  if (node.kind !== 'list') throw new MalformedFileError(`metadata field ${type} is not a list`);
  const records: KeyRecord[] = [];
  for (const item of node.items) {
    if (item.kind === 'comment') continue;
    if (item.kind !== 'map') throw new MalformedFileError(`metadata ${type} entry is not a map`);
    const fields: Record<string, KeyFieldValue> = {};
    for (const e of item.items) {
      if (e.kind !== 'entry') continue;
      const name = e.key.toLowerCase();
      if (name === '__proto__') continue;
      // Only a KMS key's encryption context is a map; anything else of that shape is a damaged file.
      if (e.value.kind === 'map' && name === 'context') {
        const ctx: Record<string, string> = {};
        for (const c of e.value.items) if (c.kind === 'entry' && c.key !== '__proto__') ctx[c.key] = scalarText(c.value, name);
        fields[name] = ctx;
      } else if (e.value.kind === 'scalar') {
        if (e.value.value !== null) fields[name] = scalarText(e.value, name);
      } else {
        throw new MalformedFileError(`metadata ${type} field ${name} has a wrong type`);
      }
    }
    records.push({ type, fields });
  }
  return records;
}

function lowerCaseFields(tree: MapNode): Map<string, Node> {
  const out = new Map<string, Node>();
  for (const item of tree.items) if (item.kind === 'entry') out.set(item.key.toLowerCase(), item.value);
  return out;
}

function isNode(item: Node | { kind: 'comment' }): item is Node {
  return item.kind !== 'comment';
}

function scalarText(node: Node, field: string): string {
  if (node.kind !== 'scalar') throw new MalformedFileError(`metadata field ${field} is not a scalar`);
  const v = node.value;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return typeof v === 'string' ? v : String(v);
}

function requiredText(fields: Map<string, Node>, name: string): string {
  const v = optionalText(fields, name);
  if (v === undefined || v === '') throw new MalformedFileError(`metadata field ${name} is missing`);
  return v;
}

function optionalText(fields: Map<string, Node>, name: string): string | undefined {
  const node = fields.get(name);
  if (!node || (node.kind === 'scalar' && node.value === null)) return undefined;
  return scalarText(node, name);
}

function readBool(node: Node | undefined): boolean {
  if (!node || node.kind !== 'scalar' || node.value === null) return false;
  if (typeof node.value === 'boolean') return node.value;
  const t = String(node.value);
  if (['true', 'True', 'TRUE', '1', 't', 'T'].includes(t)) return true;
  if (['false', 'False', 'FALSE', '0', 'f', 'F', ''].includes(t)) return false;
  throw new MalformedFileError('metadata field mac_only_encrypted is not a boolean');
}

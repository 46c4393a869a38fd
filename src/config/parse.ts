import { ConfigError } from '../errors.js';
import { isMap, type Node } from 'yaml';
import { KEY_KINDS } from '../keys/registry.js';
import { RULE_KINDS, type EncryptionRule } from '../sops/rules.js';
import { compileRe2 } from '../regex/re2.js';
import { optional } from '../yaml-fields/key-entries.js';
import { parseDays } from './duration.js';
import type { Config, ConfiguredKeys, CreationRule, DestinationRule, KeyGroupConfig, StoreSettings } from './types.js';
import { STORES } from '../formats/registry.js';
import { YamlReader, type Field } from '../yaml-fields/reader.js';

const TOP_LEVEL = ['creation_rules', 'destination_rules', 'stores', 'tsops'] as const;

/** Settings only tsops reads, under one top-level `tsops:` key that sops ignores. */
const TSOPS_FIELDS = ['rotate_after', 'scan'] as const; // `scan` (the secret scanner's allowlist) is read by src/scan/allowlist.ts

const CREATION_RULE_FIELDS = [
  'path_regex', ...KEY_KINDS.flatMap((kind) => kind.config.ruleFields),
  'key_groups', 'shamir_threshold', ...RULE_KINDS, 'mac_only_encrypted',
] as const;

const KEY_GROUP_FIELDS = ['merge', ...KEY_KINDS.map((kind) => kind.config.groupField)];

const DESTINATION_RULE_FIELDS = [
  'path_regex', 's3_bucket', 's3_prefix', 'gcs_bucket', 'gcs_prefix', 'vault_path', 'vault_address',
  'vault_kv_mount_name', 'vault_kv_version', 'recreation_rule', 'omit_extensions',
] as const;

const MAX_SHAMIR_THRESHOLD = 255;
const MAX_MERGE_DEPTH = 32;

/**
 * Parses and validates a config file. Stricter than sops, which ignores what it
 * does not know: a misspelt field would silently change which keys are used,
 * so unknown fields, wrong types and invalid regexes are errors here.
 */
export function parseConfig(text: string, path: string): Config {
  const reader = new YamlReader(text, path);
  const config: Config = { path, destinationRules: [], stores: {} };
  if (reader.root === null) return config;
  // Other top-level keys are where teams keep YAML anchors (`keys: [&alice age1...]`); sops ignores them.
  const top = reader.fields(reader.root, '', TOP_LEVEL, 'ignore');

  const creation = top.get('creation_rules');
  const creationItems = creation ? reader.list(creation) : undefined;
  if (creationItems) {
    // A broken rule stops only the files that reach it (rules.ts), not the whole config.
    config.creationRules = creationItems.map(({ node, where }, index) => {
      try {
        return parseCreationRule(reader, node, where, index);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        return { ...emptyRule(index, reader.line(node)), error: e };
      }
    });
  }

  const destination = top.get('destination_rules');
  const destinationItems = destination ? reader.list(destination) : undefined;
  if (destinationItems) {
    config.destinationRules = destinationItems.map(({ node, where }, index) => parseDestinationRule(reader, node, where, index));
  }

  const stores = top.get('stores');
  if (stores?.value) config.stores = parseStores(reader, stores.value);

  const own = top.get('tsops');
  if (own?.value) parseTsopsSettings(reader, own.value, config);
  if (reader.warnings.length) config.warnings = reader.warnings;
  return config;
}

/**
 * The `tsops:` section. sops never reads it, so a mistake there must not stop
 * what sops would do: it is a warning, and the setting is left unset.
 */
function parseTsopsSettings(reader: YamlReader, node: Node, config: Config): void {
  try {
    const fields = reader.fields(node, 'tsops', TSOPS_FIELDS, 'warn');
    const period = fields.get('rotate_after');
    const text = period ? reader.string(period) : undefined;
    if (period && text !== undefined) {
      try {
        config.rotateAfterDays = parseDays(text);
      } catch (e) {
        reader.fail(period.value, `${period.where}: ${(e as Error).message}`);
      }
    }
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    reader.warnings.push(`${e.message}; the tsops section is ignored`);
  }
}

function parseCreationRule(reader: YamlReader, node: Node | null, where: string, index: number): CreationRule {
  if (node === null || !isMap(node)) return reader.fail(node, `${where} must be a mapping`);
  const fields = reader.fields(node, where, CREATION_RULE_FIELDS, 'warn');
  const rule = emptyRule(index, reader.line(node));
  const get = (name: string): Field | undefined => fields.get(name);

  const pathRegex = optional(get('path_regex'), (f) => reader.string(f));
  if (pathRegex) {
    checkRegex(reader, get('path_regex')!, () => compileRe2(pathRegex));
    rule.pathRegex = pathRegex;
  }
  for (const kind of KEY_KINDS) {
    const entries = kind.config.readRule(reader, get);
    if (entries.length) (rule.keys as Record<string, unknown[]>)[kind.type] = entries;
  }

  const groups = get('key_groups');
  if (groups?.value) {
    // An empty list, or an empty group, fails only when the rule is used (keys.ts), as in sops.
    const items = reader.list(groups) ?? [];
    rule.keyGroups = items.map(({ node: item, where: itemWhere }) => parseKeyGroup(reader, item, itemWhere, 0));
  }

  const threshold = get('shamir_threshold');
  const thresholdValue = threshold ? reader.integer(threshold) : undefined;
  if (threshold && thresholdValue !== undefined) {
    if (thresholdValue < 0 || thresholdValue > MAX_SHAMIR_THRESHOLD) reader.fail(threshold.value, `${threshold.where} must be from 0 to ${MAX_SHAMIR_THRESHOLD}`);
    const groupCount = rule.keyGroups.length;
    if (groupCount > 1 && thresholdValue > groupCount) reader.fail(threshold.value, `${threshold.where} is ${thresholdValue} but ${where} has only ${groupCount} key groups`);
    if (groupCount > 1 && thresholdValue === 1) reader.fail(threshold.value, `${threshold.where} must be at least 2 (or 0 for all groups)`);
    if (thresholdValue > 0) rule.shamirThreshold = thresholdValue;
  }

  const encryptionRule = parseEncryptionRule(reader, fields, where);
  if (encryptionRule) rule.rule = encryptionRule;
  rule.macOnlyEncrypted = optional(get('mac_only_encrypted'), (f) => reader.boolean(f)) ?? false;
  return rule;
}

function emptyRule(index: number, line: number): CreationRule {
  return { index, line, keys: {}, keyGroups: [], macOnlyEncrypted: false };
}

/** At most one of the six suffix/regex fields; an empty value counts as unset, as in sops. */
function parseEncryptionRule(reader: YamlReader, fields: Map<string, Field>, where: string): EncryptionRule | undefined {
  const set: { field: Field; rule: EncryptionRule }[] = [];
  for (const kind of RULE_KINDS) {
    const field = fields.get(kind);
    const value = field ? reader.string(field) : undefined;
    if (field && value) set.push({ field, rule: { kind, value } });
  }
  if (set.length > 1) {
    const names = set.map((s) => s.field.name).join(', ');
    reader.fail(set[1]!.field.keyNode, `${where} sets ${names}: only one of the suffix and regex fields may be set`);
  }
  const only = set[0];
  if (only && only.rule.kind.endsWith('_regex')) checkRegex(reader, only.field, () => compileRe2(only.rule.value));
  return only?.rule;
}

function parseKeyGroup(reader: YamlReader, node: Node | null, where: string, depth: number): KeyGroupConfig {
  if (node === null || !isMap(node)) return reader.fail(node, `${where} must be a mapping of keys`);
  if (depth > MAX_MERGE_DEPTH) reader.fail(node, `${where}: merge nested too deeply`);
  const fields = reader.fields(node, where, KEY_GROUP_FIELDS, 'warn');
  const mergeField = fields.get('merge');
  const merge = (mergeField ? (reader.list(mergeField) ?? []) : []).map(({ node: item, where: itemWhere }) => parseKeyGroup(reader, item, itemWhere, depth + 1));
  const keys: ConfiguredKeys = {};
  for (const kind of KEY_KINDS) {
    const field = fields.get(kind.config.groupField);
    const entries = field ? kind.config.readGroup(reader, field) : [];
    if (entries.length) (keys as Record<string, unknown[]>)[kind.type] = entries;
  }
  return { line: reader.line(node), merge, keys };
}

function parseDestinationRule(reader: YamlReader, node: Node | null, where: string, index: number): DestinationRule {
  if (node === null || !isMap(node)) return reader.fail(node, `${where} must be a mapping`);
  const fields = reader.fields(node, where, DESTINATION_RULE_FIELDS);
  const rule: DestinationRule = { index, line: reader.line(node), omitExtensions: false };
  const text = (name: string) => optional(fields.get(name), (f) => reader.string(f)) || undefined;
  const pathRegex = text('path_regex');
  if (pathRegex) {
    checkRegex(reader, fields.get('path_regex')!, () => compileRe2(pathRegex));
    rule.pathRegex = pathRegex;
  }
  const assign = <K extends keyof DestinationRule>(key: K, value: DestinationRule[K] | undefined) => {
    if (value !== undefined) rule[key] = value;
  };
  assign('s3Bucket', text('s3_bucket'));
  assign('s3Prefix', text('s3_prefix'));
  assign('gcsBucket', text('gcs_bucket'));
  assign('gcsPrefix', text('gcs_prefix'));
  assign('vaultPath', text('vault_path'));
  assign('vaultAddress', text('vault_address'));
  assign('vaultKvMountName', text('vault_kv_mount_name'));
  assign('vaultKvVersion', optional(fields.get('vault_kv_version'), (f) => reader.integer(f)));
  const recreation = fields.get('recreation_rule');
  if (recreation?.value) rule.recreationRule = parseCreationRule(reader, recreation.value, recreation.where, 0);
  rule.omitExtensions = optional(fields.get('omit_extensions'), (f) => reader.boolean(f)) ?? false;
  return rule;
}

function parseStores(reader: YamlReader, node: Node): StoreSettings {
  const fields = reader.fields(node, 'stores', STORES.map((s) => s.config.key));
  const stores: StoreSettings = {};
  for (const [name, field] of fields) {
    if (field.value === null) continue;
    const indentOption = STORES.find((s) => s.config.key === name)!.config.indent;
    const store = reader.fields(field.value, field.where, indentOption ? ['indent'] : []);
    if (!indentOption) continue;
    const indentField = store.get('indent');
    const indent = indentField ? reader.integer(indentField) : undefined;
    if (indentField && indent !== undefined) {
      if (!indentOption.tab && indent < 0) reader.fail(indentField.value, `${indentField.where} must be 0 or more`);
      if (indentOption.tab && indent < -1) reader.fail(indentField.value, `${indentField.where} must be -1 (a tab) or more`);
    }
    stores[name] = indent === undefined ? {} : { indent };
  }
  return stores;
}



function checkRegex(reader: YamlReader, field: Field, compile: () => unknown): void {
  try {
    compile();
  } catch (e) {
    const reason = String((e as Error).message ?? '').replace(/^error parsing regexp: /, '') || 'syntax error';
    reader.fail(field.value, `${field.where} is not a valid regular expression (${reason})`);
  }
}


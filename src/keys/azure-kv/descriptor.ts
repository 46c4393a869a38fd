import { isMap, type Node } from 'yaml';
import { keyStrings, mappingItems, optional } from '../../yaml-fields/key-entries.js';
import type { YamlReader } from '../../yaml-fields/reader.js';
import { defineKeyKind } from '../kind.js';
import type { KeyRecord } from '../masterkey.js';

export interface AzureKeyConfig {
  vaultUrl: string;
  key: string;
  version: string;
}

function readGroupItem(reader: YamlReader, node: Node | null, where: string): AzureKeyConfig {
  if (node === null || !isMap(node)) return reader.fail(node, `${where} must be a mapping with 'vaultUrl', 'key' and 'version'`);
  const fields = reader.fields(node, where, ['vaultUrl', 'key', 'version'], 'warn');
  const text = (name: string) => optional(fields.get(name), (f) => reader.string(f)) ?? '';
  const vaultUrl = text('vaultUrl');
  const key = text('key');
  if (!vaultUrl || !key) reader.fail(node, `${where} needs 'vaultUrl' and 'key'`);
  return { vaultUrl, key, version: text('version') };
}

const field = (record: KeyRecord, name: string): string => {
  const v = record.fields[name];
  return typeof v === 'string' ? v : '';
};

/** Azure Key Vault keys (`vault_url`, `name`, `version`): kept as read; tsops cannot wrap or unwrap for them yet. */
export const azureKvKind = defineKeyKind<'azure_kv', never, string | AzureKeyConfig>()({
  type: 'azure_kv',
  loadRank: 3,
  record: { identity: (record) => `${field(record, 'vault_url')}/keys/${field(record, 'name')}/${field(record, 'version')}` },
  config: {
    ruleFields: ['azure_keyvault'],
    groupField: 'azure_keyvault',
    readRule: (reader, f) => keyStrings(reader, f('azure_keyvault')),
    readGroup: (reader, f) => mappingItems(reader, f, (node, where) => readGroupItem(reader, node, where)),
  },
  env: 'SOPS_AZURE_KEYVAULT_URLS',
  flag: 'azure-kv',
});

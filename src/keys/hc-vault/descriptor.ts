import { keyStrings, stringItems } from '../../yaml-fields/key-entries.js';
import { defineKeyKind } from '../kind.js';
import type { KeyRecord } from '../masterkey.js';

const field = (record: KeyRecord, name: string): string => {
  const v = record.fields[name];
  return typeof v === 'string' ? v : '';
};

/** HashiCorp Vault transit keys (`vault_address`, `engine_path`, `key_name`): kept as read; tsops cannot wrap or unwrap for them yet. */
export const hcVaultKind = defineKeyKind<'hc_vault'>()({
  type: 'hc_vault',
  loadRank: 4,
  record: {
    identity: (record) => `${field(record, 'vault_address')}/v1/${field(record, 'engine_path')}/keys/${field(record, 'key_name')}`,
    listedInEveryGroup: true,
  },
  config: {
    ruleFields: ['hc_vault_transit_uri'],
    groupField: 'hc_vault',
    readRule: (reader, f) => keyStrings(reader, f('hc_vault_transit_uri')),
    readGroup: (reader, f) => stringItems(reader, f),
  },
  env: 'SOPS_VAULT_URIS',
  flag: 'hc-vault-transit',
});

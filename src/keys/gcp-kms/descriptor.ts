import { keyStrings, mappingItems, requiredField } from '../../yaml-fields/key-entries.js';
import { defineKeyKind } from '../kind.js';

/** Google Cloud KMS keys (`resource_id`): kept as read; tsops cannot wrap or unwrap for them yet. */
export const gcpKmsKind = defineKeyKind<'gcp_kms'>()({
  type: 'gcp_kms',
  loadRank: 1,
  record: { identity: (record) => (typeof record.fields['resource_id'] === 'string' ? record.fields['resource_id'] : '') },
  config: {
    ruleFields: ['gcp_kms'],
    groupField: 'gcp_kms',
    readRule: (reader, field) => keyStrings(reader, field('gcp_kms')),
    readGroup: (reader, field) => mappingItems(reader, field, (node, where) => requiredField(reader, node, where, ['resource_id'], 'resource_id')),
  },
  env: 'SOPS_GCP_KMS_IDS',
  flag: 'gcp-kms',
});

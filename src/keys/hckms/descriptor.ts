import { mappingItems, requiredField, stringItems } from '../../yaml-fields/key-entries.js';
import { defineKeyKind } from '../kind.js';

/** HuaweiCloud KMS keys (`key_id`): kept as read; tsops cannot wrap or unwrap for them. */
export const hckmsKind = defineKeyKind<'hckms'>()({
  type: 'hckms',
  loadRank: 2,
  record: { identity: (record) => (typeof record.fields['key_id'] === 'string' ? record.fields['key_id'] : '') },
  config: {
    ruleFields: ['hckms'],
    groupField: 'hckms',
    readRule: (reader, field) => stringItems(reader, field('hckms')),
    readGroup: (reader, field) => mappingItems(reader, field, (node, where) => requiredField(reader, node, where, ['key_id'], 'key_id')),
  },
  env: 'SOPS_HUAWEICLOUD_KMS_IDS',
  flag: 'hckms',
});

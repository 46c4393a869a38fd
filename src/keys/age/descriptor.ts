import { defaultAgeKeysFile } from './keys-file.js';
import { keyStringList, keyStrings } from '../../yaml-fields/key-entries.js';
import { defineKeyKind } from '../kind.js';

export interface AgeSpec {
  type: 'age';
  recipient: string;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** age recipients (`recipient`, `enc` in the metadata). */
export const ageKind = defineKeyKind<'age', AgeSpec, string>()({
  type: 'age',
  loadRank: 6,
  record: {
    identity: (record) => text(record.fields['recipient']),
    listedInEveryGroup: true,
  },
  config: {
    ruleFields: ['age'],
    groupField: 'age',
    readRule: (reader, field) => keyStrings(reader, field('age')),
    readGroup: (reader, field) => keyStringList(reader, field),
    toSpec: (recipient) => ({ type: 'age', recipient }),
  },
  env: 'SOPS_AGE_RECIPIENTS',
  flag: 'age',
  keys: {
    fromRecord: (record) => ({ type: 'age', recipient: text(record.fields['recipient']) }),
    identity: (spec) => spec.recipient,
    parse: (recipient) => ({ type: 'age', recipient }),
    help: {
      short: '-a',
      placeholder: 'recipients',
      encrypt: 'age recipients, comma-separated (env SOPS_AGE_RECIPIENTS)',
      add: 'age recipients to add',
      remove: 'age recipients to remove',
      group: 'an age recipient for the new group (repeatable, or comma-separated)',
    },
    keyPattern: 'age1[0-9a-z]+',
    load: async (options) => (await import('./kind.js')).createAgeKeyKind(options),
  },
  // The age library, for post-quantum recipients only.
  lazyPackages: ['age-encryption'],
  identitiesOption: 'ageIdentities',
  decryptionPriority: 0,
  unattended: true,
  keyMaterialEnv: ['SOPS_AGE_KEY', 'SOPS_AGE_KEY_FILE', 'SOPS_AGE_KEY_CMD', 'SOPS_AGE_SSH_PRIVATE_KEY_FILE', 'SOPS_AGE_SSH_PRIVATE_KEY_CMD'],
  personal: {
    defaultKeysFile: (env) => defaultAgeKeysFile(env),
    keysFile: (env) => env['SOPS_AGE_KEY_FILE'] || defaultAgeKeysFile(env),
    async addIdentity(path) {
      const { appendAgeKey, generateAgeKey } = await import('./keygen.js');
      const key = await generateAgeKey();
      await appendAgeKey(path, key);
      return key.recipient;
    },
    publicKeyIn: (keysFileText) => /# public key: (age1[0-9a-z]+)/.exec(keysFileText)?.[1],
  },
});

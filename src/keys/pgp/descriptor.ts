import { keyStringList, keyStrings, withoutSpaces } from '../../yaml-fields/key-entries.js';
import { defineKeyKind } from '../kind.js';

export interface PgpSpec {
  type: 'pgp';
  fingerprint: string;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const spec = (fingerprint: string): PgpSpec => ({ type: 'pgp', fingerprint: withoutSpaces(fingerprint) });

/** PGP keys through gpg (`created_at`, `enc`, `fp` in the metadata). */
export const pgpKind = defineKeyKind<'pgp', PgpSpec, string>()({
  type: 'pgp',
  loadRank: 5,
  record: { identity: (record) => text(record.fields['fp']) },
  config: {
    ruleFields: ['pgp'],
    groupField: 'pgp',
    readRule: (reader, field) => keyStrings(reader, field('pgp')).map(withoutSpaces),
    readGroup: (reader, field) => keyStringList(reader, field).map(withoutSpaces),
    toSpec: spec,
  },
  env: 'SOPS_PGP_FP',
  decryptionPriority: 1,
  flag: 'pgp',
  keys: {
    fromRecord: (record) => ({ type: 'pgp', fingerprint: text(record.fields['fp']) }),
    identity: (s) => s.fingerprint,
    parse: spec,
    help: {
      short: '-p',
      placeholder: 'fingerprints',
      encrypt: 'PGP fingerprints, comma-separated (env SOPS_PGP_FP)',
      add: 'PGP fingerprints to add',
      remove: 'PGP fingerprints to remove',
      group: 'a PGP fingerprint for the new group (repeatable)',
    },
    keyPattern: '[0-9A-F]{40}',
    load: async (options) => (await import('./kind.js')).createPgpKeyKind(options),
  },
});

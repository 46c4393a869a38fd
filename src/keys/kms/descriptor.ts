import { isMap, type Node } from 'yaml';
import { keyStrings, mappingItems, optional, withoutSpaces } from '../../yaml-fields/key-entries.js';
import type { YamlReader } from '../../yaml-fields/reader.js';
import { defineKeyKind } from '../kind.js';
import type { KeyRecord } from '../masterkey.js';
import { kmsIdentity, parseEncryptionContext, splitKmsArn } from './arn.js';

export interface KmsSpec {
  type: 'kms';
  arn: string;
  role?: string;
  context?: Record<string, string>;
  awsProfile?: string;
}

/** One configured KMS key: `arn` (`arn+role_arn` in flat rules), `role`, `context`, `aws_profile`. */
export interface KmsKeyConfig {
  arn: string;
  role?: string;
  context?: Record<string, string>;
  awsProfile?: string;
}

/** `--aws-profile` and `--encryption-context`, which qualify the KMS keys of a command line (and a rule's flat keys' context). */
export interface KmsFlagOptions {
  awsProfile?: string;
  context?: Record<string, string>;
}

const text = (record: KeyRecord, name: string): string => {
  const v = record.fields[name];
  return typeof v === 'string' ? v : '';
};

function spec(key: KmsKeyConfig): KmsSpec {
  const s: KmsSpec = { type: 'kms', arn: key.arn };
  if (key.role) s.role = key.role;
  if (key.context && Object.keys(key.context).length) s.context = { ...key.context };
  if (key.awsProfile) s.awsProfile = key.awsProfile;
  return s;
}

function readGroupItem(reader: YamlReader, node: Node | null, where: string): KmsKeyConfig {
  if (node === null || !isMap(node)) return reader.fail(node, `${where} must be a mapping with an 'arn'`);
  const fields = reader.fields(node, where, ['arn', 'role', 'context', 'aws_profile'], 'warn');
  const arnField = fields.get('arn');
  const arn = arnField ? reader.string(arnField) : undefined;
  if (!arn) reader.fail(arnField?.value ?? node, `${where}.arn is required`);
  const key: KmsKeyConfig = { arn: withoutSpaces(arn) };
  const role = optional(fields.get('role'), (f) => reader.string(f));
  if (role) key.role = withoutSpaces(role);
  const context = optional(fields.get('context'), (f) => reader.stringMap(f));
  if (context && Object.keys(context).length) key.context = context;
  const profile = optional(fields.get('aws_profile'), (f) => reader.string(f));
  if (profile) key.awsProfile = profile;
  return key;
}

/** AWS KMS keys (`arn`, `aws_profile`, `context`, `created_at`, `enc`, `role` in the metadata). */
export const kmsKind = defineKeyKind<'kms', KmsSpec, KmsKeyConfig, KmsFlagOptions>()({
  type: 'kms',
  loadRank: 0,
  record: {
    identity(record) {
      const ctx = record.fields['context'];
      return kmsIdentity(text(record, 'arn'), text(record, 'role'), typeof ctx === 'object' ? ctx : undefined, text(record, 'aws_profile'));
    },
    alwaysWritten: { aws_profile: '' },
  },
  config: {
    ruleFields: ['kms', 'aws_profile'],
    groupField: 'kms',
    readRule(reader, field) {
      const profile = optional(field('aws_profile'), (f) => reader.string(f));
      return keyStrings(reader, field('kms')).map((t) => ({ ...splitKmsArn(t), ...(profile ? { awsProfile: profile } : {}) }));
    },
    readGroup: (reader, field) => mappingItems(reader, field, (node, where) => readGroupItem(reader, node, where)),
    toSpec: (key, options) => spec({ ...key, ...(options?.context ? { context: options.context } : {}) }),
  },
  env: 'SOPS_KMS_ARN',
  flag: 'kms',
  keys: {
    fromRecord(record) {
      const s: KmsSpec = { type: 'kms', arn: text(record, 'arn') };
      if (text(record, 'role')) s.role = text(record, 'role');
      if (text(record, 'aws_profile')) s.awsProfile = text(record, 'aws_profile');
      const ctx = record.fields['context'];
      if (ctx && typeof ctx === 'object' && Object.keys(ctx).length) s.context = { ...ctx };
      return s;
    },
    identity: (s) => kmsIdentity(s.arn, s.role, s.context, s.awsProfile),
    parse: (t, options) => spec({ ...splitKmsArn(t), ...(options?.awsProfile ? { awsProfile: options.awsProfile } : {}), ...(options?.context ? { context: options.context } : {}) }),
    readOptions(given) {
      const options: KmsFlagOptions = {};
      if (given['awsProfile']) options.awsProfile = given['awsProfile'];
      const context = given['encryptionContext'] ? parseEncryptionContext(given['encryptionContext']) : undefined;
      if (context) options.context = context;
      return options.awsProfile || options.context ? options : undefined;
    },
    help: {
      short: '-k',
      placeholder: 'arns',
      encrypt: 'AWS KMS key ARNs, comma-separated, arn+role_arn to assume a role (env SOPS_KMS_ARN)',
      add: 'KMS ARNs to add',
      remove: 'KMS ARNs to remove',
      group: 'an AWS KMS ARN for the new group (repeatable)',
      options: [
        { attribute: 'awsProfile', flag: '--aws-profile <name>', help: 'AWS profile for KMS keys' },
        { attribute: 'encryptionContext', flag: '--encryption-context <k:v,...>', help: 'KMS encryption context' },
      ],
    },
    keyPattern: 'arn:aws[\\w-]*:kms:[^\\s,#]+',
    load: async (options) => (await import('./kind.js')).createKmsKeyKind(options),
  },
  lazyPackages: ['@aws-sdk/*', '@smithy/*'],
});

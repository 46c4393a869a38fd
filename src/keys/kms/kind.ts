/**
 * AWS KMS master keys, stored as sops stores them: `arn`, `aws_profile`
 * (always, "" when none), `context` (when non-empty), `created_at`, `enc`
 * (standard base64 of the KMS CiphertextBlob), `role` (when set).
 * Loading this module is cheap: the AWS SDK is imported on the first wrap or unwrap.
 */
import { KeyWrapError, MalformedFileError, TsopsError } from '../../errors.js';
import type { KeyOptions, KeyRecord, KeySpec, MasterKeyKind } from '../masterkey.js';
import { regionFromArn, sharedKmsClient, timeoutFrom, type ClientSettings } from './clients.js';
import { describeFailure } from './failure.js';

export { regionFromArn, roleSessionName } from './clients.js';

export function createKmsKeyKind(options: KeyOptions): MasterKeyKind {
  const env = options.env ?? process.env;
  const settingsFor = (arn: string, role: string, profile: string, fail: (message: string) => Error): ClientSettings => {
    const region = regionFromArn(arn);
    if (region === undefined) throw fail(`not a KMS key ARN: ${arn}`);
    const settings: ClientSettings = { region, timeoutMs: timeoutFrom(env) };
    if (role) settings.role = role;
    if (profile) settings.profile = profile;
    if (options.log) settings.log = options.log;
    return settings;
  };

  return {
    type: 'kms',

    async wrap(spec: KeySpec, secret: Uint8Array): Promise<KeyRecord> {
      if (spec.type !== 'kms') throw new KeyWrapError(`a ${spec.type} key cannot be used as a KMS key`);
      const context = nonEmpty(spec.context);
      const settings = settingsFor(spec.arn, spec.role ?? '', spec.awsProfile ?? '', (m) => new KeyWrapError(m));
      const blob = await call(settings, spec.arn, 'kms:Encrypt', (m, cause) => new KeyWrapError(m, { cause }), async (client) => {
        const { EncryptCommand } = await import('@aws-sdk/client-kms');
        const out = await client.send(new EncryptCommand({ KeyId: spec.arn, Plaintext: secret, ...(context ? { EncryptionContext: context } : {}) }));
        if (!out.CiphertextBlob?.length) throw new Error('KMS returned no ciphertext');
        return out.CiphertextBlob;
      });
      const fields: KeyRecord['fields'] = {
        arn: spec.arn,
        aws_profile: spec.awsProfile ?? '',
        created_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        enc: Buffer.from(blob).toString('base64'),
      };
      if (context) fields['context'] = context;
      if (spec.role) fields['role'] = spec.role;
      return { type: 'kms', fields };
    },

    async unwrap(record: KeyRecord): Promise<Uint8Array> {
      const arn = text(record, 'arn');
      const enc = text(record, 'enc');
      if (!arn) throw new MalformedFileError('KMS key entry has no arn');
      if (!enc) throw new MalformedFileError(`KMS key entry ${arn} has no enc`);
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(enc)) throw new MalformedFileError(`KMS key entry ${arn} has an enc that is not base64`);
      const context = storedContext(record, arn);
      const settings = settingsFor(arn, text(record, 'role'), text(record, 'aws_profile'), (m) => new MalformedFileError(m));
      return call(settings, arn, 'kms:Decrypt', (m, cause) => new TsopsError(m, undefined, { cause }), async (client) => {
        const { DecryptCommand } = await import('@aws-sdk/client-kms');
        const out = await client.send(new DecryptCommand({ KeyId: arn, CiphertextBlob: Buffer.from(enc, 'base64'), ...(context ? { EncryptionContext: context } : {}) }));
        if (!out.Plaintext?.length) throw new Error('KMS returned no plaintext');
        return out.Plaintext;
      });
    },
  };
}

type KmsClientInstance = Awaited<ReturnType<typeof sharedKmsClient>>;

/** One KMS call on the client shared for its region and credentials, failures as one-line errors. */
async function call<T>(
  settings: ClientSettings,
  arn: string,
  action: string,
  fail: (message: string, cause: unknown) => Error,
  body: (client: KmsClientInstance) => Promise<T>,
): Promise<T> {
  let client: KmsClientInstance;
  try {
    client = await sharedKmsClient(settings, arn);
  } catch (e) {
    throw fail((e as Error).message, e);
  }
  try {
    return await body(client);
  } catch (e) {
    throw fail(describeFailure(e, { action, arn, region: settings.region, timeoutMs: settings.timeoutMs, profile: settings.profile }), e);
  }
}

function text(record: KeyRecord, name: string): string {
  const v = record.fields[name];
  return typeof v === 'string' ? v.trim() : '';
}

function storedContext(record: KeyRecord, arn: string): Record<string, string> | undefined {
  const v = record.fields['context'];
  if (v === undefined || v === '') return undefined;
  if (typeof v === 'string') throw new MalformedFileError(`KMS key entry ${arn} has a context that is not a map`);
  return nonEmpty(v);
}

function nonEmpty(context: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!context) return undefined;
  const keys = Object.keys(context).sort();
  if (!keys.length) return undefined;
  return Object.fromEntries(keys.map((k) => [k, String(context[k])]));
}

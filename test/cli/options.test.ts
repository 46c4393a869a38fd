import { describe, expect, it } from 'vitest';
import { TsopsError } from '../../src/errors.js';
import { ExitCode, exitCodeOfError } from '../../src/cli/exit-codes.js';
import {
  decryptionOrder,
  indentOf,
  inputFormat,
  outputFormat,
  ruleFromFlags,
  thresholdFromFlags,
  type KeyFlags,
} from '../../src/cli/options.js';
import { keyFlagValues } from '../../src/cli/settings.js';
import { parseEncryptionContext as parseContext } from '../../src/keys/kms/arn.js';

const parseEncryptionContext = (text: string | undefined) => (text ? parseContext(text) : undefined);
import { keysFromFlagsAndEnv } from '../../src/config/index.js';

/** The keys the CLI derives from its flags and sops's environment variables. */
const keysFromFlags = (flags: KeyFlags, env: NodeJS.ProcessEnv) => keysFromFlagsAndEnv(keyFlagValues(flags), env);

function exitCodeOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TsopsError);
    expect((e as Error).message).not.toContain('\n');
    return exitCodeOfError(e as TsopsError);
  }
  throw new Error('expected an error');
}

const AGE_A = 'age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr';
const AGE_B = 'age1qe5lxzzeppw5k79vxn3872272sgy224g2nzqlzy3uljs84say3yqgvd0sw';

describe('keysFromFlags', () => {
  it('splits comma-separated recipients, trims them and drops empty entries', () => {
    expect(keysFromFlags({ age: ` ${AGE_A} ,, ${AGE_B},` }, {})).toEqual([
      { type: 'age', recipient: AGE_A },
      { type: 'age', recipient: AGE_B },
    ]);
  });

  it('takes keys from sops environment variables when no flag is given', () => {
    const keys = keysFromFlags({}, { SOPS_AGE_RECIPIENTS: AGE_A, SOPS_PGP_FP: 'FBC7 B9E2 A4F9 289A C0C1  D484 3D16 CEE4 A273 81B4', SOPS_KMS_ARN: 'arn:aws:kms:eu-west-1:1:key/k' });
    expect(keys).toEqual([
      { type: 'age', recipient: AGE_A },
      { type: 'pgp', fingerprint: 'FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4' },
      { type: 'kms', arn: 'arn:aws:kms:eu-west-1:1:key/k' },
    ]);
  });

  it('a flag beats its environment variable', () => {
    expect(keysFromFlags({ age: AGE_B }, { SOPS_AGE_RECIPIENTS: AGE_A })).toEqual([{ type: 'age', recipient: AGE_B }]);
  });

  it('is empty when nothing names a key', () => {
    expect(keysFromFlags({}, {})).toEqual([]);
    expect(keysFromFlags({ age: ' , ' }, { SOPS_AGE_RECIPIENTS: '' })).toEqual([]);
  });

  it('reads arn+role_arn and attaches the encryption context and profile to KMS keys', () => {
    const [kms] = keysFromFlags({ kms: 'arn:aws:kms:us-east-1:1:key/a+arn:aws:iam::1:role/r', encryptionContext: 'app:web,env:prod', awsProfile: 'dev' }, {});
    expect(kms).toEqual({
      type: 'kms',
      arn: 'arn:aws:kms:us-east-1:1:key/a',
      role: 'arn:aws:iam::1:role/r',
      context: { app: 'web', env: 'prod' },
      awsProfile: 'dev',
    });
  });

  it('a malformed encryption context is exit 6 even without KMS keys', () => {
    expect(exitCodeOf(() => keysFromFlags({ age: AGE_A, encryptionContext: 'novalue' }, {}))).toBe(ExitCode.InvalidEncryptionContext);
  });
});

describe('parseEncryptionContext', () => {
  it('reads k:v pairs', () => {
    expect(parseEncryptionContext('a:1, b:2')).toEqual({ a: '1', b: '2' });
    expect(parseEncryptionContext('a:')).toEqual({ a: '' });
    expect(parseEncryptionContext(undefined)).toBeUndefined();
    expect(parseEncryptionContext('')).toBeUndefined();
  });

  it.each(['a', 'a:b:c', ':b', 'a:1,broken'])('rejects %j with exit 6', (text) => {
    expect(exitCodeOf(() => parseEncryptionContext(text))).toBe(ExitCode.InvalidEncryptionContext);
  });
});

describe('ruleFromFlags', () => {
  it('maps each flag to its rule kind', () => {
    expect(ruleFromFlags({ unencryptedSuffix: '_plain' })).toEqual({ kind: 'unencrypted_suffix', value: '_plain' });
    expect(ruleFromFlags({ encryptedSuffix: '_secret' })).toEqual({ kind: 'encrypted_suffix', value: '_secret' });
    expect(ruleFromFlags({ unencryptedRegex: '^pub' })).toEqual({ kind: 'unencrypted_regex', value: '^pub' });
    expect(ruleFromFlags({ encryptedRegex: '^(pass|key)' })).toEqual({ kind: 'encrypted_regex', value: '^(pass|key)' });
    expect(ruleFromFlags({ unencryptedCommentRegex: 'plain' })).toEqual({ kind: 'unencrypted_comment_regex', value: 'plain' });
    expect(ruleFromFlags({ encryptedCommentRegex: 'sops:enc' })).toEqual({ kind: 'encrypted_comment_regex', value: 'sops:enc' });
  });

  it('no flag is no rule (the document layer applies its default)', () => {
    expect(ruleFromFlags({})).toBeUndefined();
  });

  it('more than one rule flag is exit 8', () => {
    expect(exitCodeOf(() => ruleFromFlags({ unencryptedSuffix: '_u', encryptedRegex: 'x' }))).toBe(ExitCode.ConflictingParameters);
    expect(exitCodeOf(() => ruleFromFlags({ encryptedCommentRegex: 'a', unencryptedCommentRegex: 'b' }))).toBe(ExitCode.ConflictingParameters);
  });
});

describe('decryptionOrder', () => {
  it('reads the flag, else SOPS_DECRYPTION_ORDER', () => {
    expect(decryptionOrder({ decryptionOrder: 'pgp, age' }, { SOPS_DECRYPTION_ORDER: 'age' })).toEqual(['pgp', 'age']);
    expect(decryptionOrder({}, { SOPS_DECRYPTION_ORDER: 'age,pgp' })).toEqual(['age', 'pgp']);
    expect(decryptionOrder({}, {})).toBeUndefined();
  });

  it('a repeated type is exit 112, from the flag or the environment', () => {
    expect(exitCodeOf(() => decryptionOrder({ decryptionOrder: 'age,pgp,age' }, {}))).toBe(ExitCode.DuplicateDecryptionKeyType);
    expect(exitCodeOf(() => decryptionOrder({}, { SOPS_DECRYPTION_ORDER: 'pgp,pgp' }))).toBe(ExitCode.DuplicateDecryptionKeyType);
  });

  it('an unknown type is an error that names it', () => {
    try {
      decryptionOrder({ decryptionOrder: 'age,rot13' }, {});
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toContain('rot13');
    }
  });
});

describe('formats', () => {
  it('input type: flag, else the file name, else --filename-override for stdin, else binary', () => {
    expect(inputFormat({ inputType: 'json' }, 'a.yaml')).toBe('json');
    expect(inputFormat({}, 'a.yaml')).toBe('yaml');
    expect(inputFormat({}, 'dir/a.yml')).toBe('yaml');
    expect(inputFormat({}, 'a.env')).toBe('dotenv');
    expect(inputFormat({}, 'a.ini')).toBe('ini');
    expect(inputFormat({}, 'a.txt')).toBe('binary');
    expect(inputFormat({ filenameOverride: 'x.json' }, undefined)).toBe('json');
    expect(inputFormat({ filenameOverride: 'x.json' }, '-')).toBe('json');
    expect(inputFormat({}, undefined)).toBe('binary');
    expect(inputFormat({}, '-')).toBe('binary');
  });

  it('output type defaults to the input type', () => {
    expect(outputFormat({}, 'ini')).toBe('ini');
    expect(outputFormat({ outputType: 'json' }, 'yaml')).toBe('json');
    expect(outputFormat({ outputType: 'env' }, 'yaml')).toBe('dotenv');
  });

  it('an unknown type is an error naming the flag', () => {
    for (const fn of [() => inputFormat({ inputType: 'toml' }, 'a.yaml'), () => outputFormat({ outputType: 'xml' }, 'yaml')]) {
      expect(exitCodeOf(fn)).toBe(ExitCode.Generic);
    }
    expect(() => outputFormat({ outputType: 'xml' }, 'yaml')).toThrow(/--output-type/);
  });
});

describe('numbers', () => {
  it('--indent is a whole number', () => {
    expect(indentOf({})).toBeUndefined();
    expect(indentOf({ indent: '2' })).toBe(2);
    expect(indentOf({ indent: '0' })).toBe(0);
    expect(exitCodeOf(() => indentOf({ indent: 'two' }))).toBe(ExitCode.Generic);
    expect(exitCodeOf(() => indentOf({ indent: '1.5' }))).toBe(ExitCode.Generic);
  });

  it('--shamir-secret-sharing-threshold: 0 means unset, 1..255 allowed', () => {
    expect(thresholdFromFlags({})).toBeUndefined();
    expect(thresholdFromFlags({ shamirSecretSharingThreshold: '0' })).toBeUndefined();
    expect(thresholdFromFlags({ shamirSecretSharingThreshold: '2' })).toBe(2);
    for (const bad of ['-1', '256', 'x', '1.5']) expect(exitCodeOf(() => thresholdFromFlags({ shamirSecretSharingThreshold: bad }))).toBe(ExitCode.Generic);
  });
});

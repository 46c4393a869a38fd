import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { keyGroupsForRule, parseConfig, resolveEncryptSettings, type KeyFlagValues } from '../../src/config/index.js';
import { parseEncryptionContext } from '../../src/keys/kms/arn.js';
import { TsopsError } from '../../src/errors.js';
import { AGE_A, AGE_B, AGE_C, asyncConfigErrorOf, configErrorOf, FIXTURE_REPO, INTEROP, KMS_ARN, PGP_FP, ROLE_ARN, tempTree } from './helpers.js';
import { HAS_INTEROP } from '../support/interop.js';
import { ExitCode, exitCodeOfError } from '../../src/cli/exit-codes.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function repo(sopsrc: string, name = '.sopsrc'): string {
  const t = tempTree({ [name]: sopsrc });
  cleanups.push(t.cleanup);
  return t.root;
}

const age = (recipient: string) => ({ type: 'age' as const, recipient });

async function resolveIn(root: string, file: string, flags: KeyFlagValues = {}, env: NodeJS.ProcessEnv = {}) {
  return resolveEncryptSettings({ file, cwd: root, env, flags });
}

describe('resolveEncryptSettings: the fixture repo', () => {
  it('production YAML gets two groups, threshold 2 and encrypted_regex', async () => {
    const result = await resolveIn(FIXTURE_REPO, 'prod/db.yaml');
    expect(result).toEqual({
      settings: { keyGroups: [[age(AGE_A)], [age(AGE_B)]], shamirThreshold: 2, rule: { kind: 'encrypted_regex', value: '^(password|token)$' } },
      configPath: join(FIXTURE_REPO, '.sopsrc'),
      stores: { yaml: { indent: 2 }, json: { indent: 2 } },
    });
  });

  it('a dotenv file gets one group of two recipients, its suffix and mac_only_encrypted', async () => {
    const { settings } = await resolveIn(FIXTURE_REPO, 'services/api/.env');
    expect(settings).toEqual({ keyGroups: [[age(AGE_A), age(AGE_B)]], rule: { kind: 'unencrypted_suffix', value: '_PUBLIC' }, macOnlyEncrypted: true });
  });

  it('anything else falls through to the last rule', async () => {
    const { settings } = await resolveIn(FIXTURE_REPO, 'dev/settings.json');
    expect(settings).toEqual({ keyGroups: [[age(AGE_B)]], rule: { kind: 'unencrypted_comment_regex', value: 'public' } });
  });

  it('finds the fixture config from a cwd outside it, by the target path', async () => {
    const { configPath } = await resolveEncryptSettings({ file: join(FIXTURE_REPO, 'prod/a.yml'), cwd: '/', env: {}, flags: {} });
    expect(configPath).toBe(join(FIXTURE_REPO, '.sopsrc'));
  });
});

describe('resolveEncryptSettings: precedence', () => {
  const rc = [
    'creation_rules:',
    '  - age: ' + AGE_A,
    '    kms: ' + KMS_ARN,
    '    aws_profile: from-rule',
    '    encrypted_suffix: _secret',
    '    shamir_threshold: 0',
  ].join('\n');

  it('key flags replace the config\'s keys but keep the rule\'s other fields', async () => {
    const { settings } = await resolveIn(repo(rc), 'f.yaml', { keys: { age: [`${AGE_B},${AGE_C}`] } });
    expect(settings).toEqual({ keyGroups: [[age(AGE_B), age(AGE_C)]], rule: { kind: 'encrypted_suffix', value: '_secret' } });
  });

  it.each([
    ['SOPS_AGE_RECIPIENTS', AGE_B, [age(AGE_B)]],
    ['SOPS_PGP_FP', `${PGP_FP}, D7229043384BCC60326C6FB9D8720D957C3D3074`, [{ type: 'pgp', fingerprint: PGP_FP }, { type: 'pgp', fingerprint: 'D7229043384BCC60326C6FB9D8720D957C3D3074' }]],
    ['SOPS_KMS_ARN', `${KMS_ARN}+${ROLE_ARN}`, [{ type: 'kms', arn: KMS_ARN, role: ROLE_ARN }]],
  ])('%s replaces the config\'s keys', async (variable, value, expected) => {
    const { settings } = await resolveIn(repo(rc), 'f.yaml', {}, { [variable]: value });
    expect(settings.keyGroups).toEqual([expected]);
  });

  it('a flag beats the environment variable of its own kind, and kinds add up in one group', async () => {
    const { settings } = await resolveIn(repo(rc), 'f.yaml', { keys: { age: [AGE_C] } }, { SOPS_AGE_RECIPIENTS: AGE_B, SOPS_PGP_FP: PGP_FP });
    expect(settings.keyGroups).toEqual([[age(AGE_C), { type: 'pgp', fingerprint: PGP_FP }]]);
  });

  it('an empty flag or variable counts as not given', async () => {
    const { settings } = await resolveIn(repo(rc), 'f.yaml', { keys: { age: [' , '] } }, { SOPS_PGP_FP: '' });
    expect(settings.keyGroups[0]![0]).toEqual(age(AGE_A));
  });

  it('CLI KMS keys take --aws-profile and --encryption-context', async () => {
    const { settings } = await resolveIn(repo(rc), 'f.yaml', { keys: { kms: [`${KMS_ARN} + ${ROLE_ARN}`] }, options: { kms: { awsProfile: 'cli', context: { app: 'web' } } } });
    expect(settings.keyGroups).toEqual([[{ type: 'kms', arn: KMS_ARN, role: ROLE_ARN, awsProfile: 'cli', context: { app: 'web' } }]]);
  });

  it('config flat keys come in the order age, pgp, kms; KMS gets the rule\'s aws_profile and --encryption-context', async () => {
    const root = repo(`creation_rules:\n  - kms: ${KMS_ARN}\n    pgp: ${PGP_FP}\n    age: ${AGE_A}\n    aws_profile: from-rule\n`);
    const { settings } = await resolveIn(root, 'f.yaml', { options: { kms: { context: { app: 'web' }, awsProfile: 'ignored-for-config-keys' } } });
    expect(settings.keyGroups).toEqual([[age(AGE_A), { type: 'pgp', fingerprint: PGP_FP }, { type: 'kms', arn: KMS_ARN, awsProfile: 'from-rule', context: { app: 'web' } }]]);
  });

  it('the rule flag replaces the config rule', async () => {
    const { settings } = await resolveIn(repo(rc), 'f.yaml', { rule: { kind: 'unencrypted_regex', value: '^public' } });
    expect(settings.rule).toEqual({ kind: 'unencrypted_regex', value: '^public' });
  });

  it('mac_only_encrypted is the flag OR the rule', async () => {
    const off = repo(`creation_rules:\n  - age: ${AGE_A}\n`);
    const on = repo(`creation_rules:\n  - age: ${AGE_A}\n    mac_only_encrypted: true\n`);
    expect((await resolveIn(off, 'f.yaml')).settings.macOnlyEncrypted).toBeUndefined();
    expect((await resolveIn(off, 'f.yaml', { macOnlyEncrypted: true })).settings.macOnlyEncrypted).toBe(true);
    expect((await resolveIn(on, 'f.yaml', { macOnlyEncrypted: false })).settings.macOnlyEncrypted).toBe(true);
  });

  it('a non-zero threshold flag overrides the rule\'s; zero keeps it', async () => {
    const root = repo(`creation_rules:\n  - key_groups: [{age: [${AGE_A}]}, {age: [${AGE_B}]}, {age: [${AGE_C}]}]\n    shamir_threshold: 2\n`);
    expect((await resolveIn(root, 'f.yaml')).settings.shamirThreshold).toBe(2);
    expect((await resolveIn(root, 'f.yaml', { shamirThreshold: 3 })).settings.shamirThreshold).toBe(3);
    expect((await resolveIn(root, 'f.yaml', { shamirThreshold: 0 })).settings.shamirThreshold).toBe(2);
  });

  it('refuses a threshold flag the key groups cannot satisfy', async () => {
    const root = repo(`creation_rules:\n  - key_groups: [{age: [${AGE_A}]}, {age: [${AGE_B}]}]\n`);
    const message = await asyncConfigErrorOf(() => resolveIn(root, 'f.yaml', { shamirThreshold: 3 }));
    expect(message).toBe('the Shamir threshold flag is 3, but with 2 key groups it must be 2 to 2');
  });

  it('uses --config instead of discovery', async () => {
    const root = repo(`creation_rules:\n  - age: ${AGE_A}\n`);
    const other = repo(`creation_rules:\n  - age: ${AGE_B}\n`, 'team.yaml');
    const result = await resolveEncryptSettings({ file: 'f.yaml', cwd: root, env: {}, explicitConfig: join(other, 'team.yaml'), flags: {} });
    expect(result.settings.keyGroups).toEqual([[age(AGE_B)]]);
    expect(result.configPath).toBe(join(other, 'team.yaml'));
  });

  it('with no config, CLI keys alone are enough and stores are empty', async () => {
    const root = repo('', 'unrelated.txt');
    const result = await resolveIn(root, 'f.yaml', { keys: { age: [AGE_A] } });
    expect(result).toEqual({ settings: { keyGroups: [[age(AGE_A)]] }, stores: {} });
  });

  it('a config without creation_rules gives only stores', async () => {
    const root = repo('stores:\n  json:\n    indent: 4\n');
    const result = await resolveIn(root, 'f.json', { keys: { age: [AGE_A] } });
    expect(result.stores).toEqual({ json: { indent: 4 } });
    expect(result.settings.keyGroups).toEqual([[age(AGE_A)]]);
  });
});

describe('resolveEncryptSettings: key groups', () => {
  it('uses key_groups and ignores the flat keys when both are given', async () => {
    const root = repo(`creation_rules:\n  - age: ${AGE_C}\n    gcp_kms: projects/p/locations/l/keyRings/r/cryptoKeys/k\n    key_groups:\n      - age: [${AGE_A}]\n`);
    expect((await resolveIn(root, 'f.yaml')).settings.keyGroups).toEqual([[age(AGE_A)]]);
  });

  it('adds merged keys first, recursively, and drops repeats within a group', async () => {
    const root = repo([
      'creation_rules:',
      '  - key_groups:',
      '      - merge:',
      `          - age: [${AGE_C}]`,
      '            merge:',
      `              - pgp: [${PGP_FP}]`,
      `        age: [${AGE_A}, ${AGE_C}]`,
      '        kms:',
      `          - arn: ${KMS_ARN}`,
      `            role: ${ROLE_ARN}`,
      '            context: {b: "2", a: "1"}',
      '            aws_profile: ops',
      `      - age: [${AGE_B}]`,
    ].join('\n'));
    const { settings } = await resolveIn(root, 'f.yaml', { options: { kms: { context: { not: 'used' } } } });
    expect(settings.keyGroups).toEqual([
      [{ type: 'pgp', fingerprint: PGP_FP }, age(AGE_C), age(AGE_A), { type: 'kms', arn: KMS_ARN, role: ROLE_ARN, context: { b: '2', a: '1' }, awsProfile: 'ops' }],
      [age(AGE_B)],
    ]);
  });

  it('keyGroupsForRule gives a rule\'s groups for updatekeys-style callers', () => {
    const config = parseConfig(`creation_rules:\n  - age: ${AGE_A},${AGE_B}\n`, '/r/.sopsrc');
    expect(keyGroupsForRule(config.creationRules![0]!, '/r/.sopsrc')).toEqual([[age(AGE_A), age(AGE_B)]]);
  });

  it.each([
    ['gcp_kms', 'gcp_kms: projects/p/locations/l/keyRings/r/cryptoKeys/k'],
    ['azure_keyvault', 'azure_keyvault: https://v.vault.azure.net/keys/k/1'],
    ['hc_vault_transit_uri', 'hc_vault_transit_uri: https://vault:8200/v1/transit/keys/k'],
    ['hckms', 'hckms: [tr-west-1:abc]'],
  ])('refuses flat %s keys when they would be used', async (kind, line) => {
    const root = repo(`creation_rules:\n  - age: ${AGE_A}\n    ${line}\n`);
    const message = await asyncConfigErrorOf(() => resolveIn(root, 'f.yaml'));
    expect(message).toBe(`${join(root, '.sopsrc')}:2: ${kind} keys are not supported by tsops`);
    // CLI keys replace the config's keys, so the unsupported ones are never used.
    await expect(resolveIn(root, 'f.yaml', { keys: { age: [AGE_B] } })).resolves.toBeDefined();
  });

  it.each([
    ['gcp_kms', 'gcp_kms: [{resource_id: projects/p/locations/l/keyRings/r/cryptoKeys/k}]'],
    ['hc_vault', 'hc_vault: [https://vault:8200/v1/transit/keys/k]'],
    ['azure_keyvault', 'azure_keyvault: [{vaultUrl: "https://v.vault.azure.net", key: k, version: "1"}]'],
    ['hckms', 'hckms: [{key_id: "tr-west-1:abc"}]'],
  ])('refuses %s in a key group, naming the group\'s line', async (kind, item) => {
    const root = repo(`creation_rules:\n  - key_groups:\n      - age: [${AGE_A}]\n      - ${item}\n`);
    const message = await asyncConfigErrorOf(() => resolveIn(root, 'f.yaml'));
    expect(message).toBe(`${join(root, '.sopsrc')}:4: ${kind} keys are not supported by tsops`);
  });

  it('refuses keys sops would take from an environment variable tsops cannot use', async () => {
    const root = repo(`creation_rules:\n  - age: ${AGE_A}\n`);
    const message = await asyncConfigErrorOf(() => resolveIn(root, 'f.yaml', {}, { SOPS_GCP_KMS_IDS: 'projects/p/x' }));
    expect(message).toBe('gcp_kms keys are not supported by tsops (SOPS_GCP_KMS_IDS is set)');
  });
});

describe('resolveEncryptSettings: errors', () => {
  it('no matching creation rule is an error, even with CLI keys', async () => {
    const root = repo(`creation_rules:\n  - path_regex: ^prod/\n    age: ${AGE_A}\n`);
    const expected = `no creation rule in ${join(root, '.sopsrc')} matches dev/x.yaml`;
    expect(await asyncConfigErrorOf(() => resolveIn(root, 'dev/x.yaml'))).toBe(expected);
    expect(await asyncConfigErrorOf(() => resolveIn(root, 'dev/x.yaml', { keys: { age: [AGE_B] } }))).toBe(expected);
    expect(await asyncConfigErrorOf(() => resolveIn(repo('creation_rules: []\n'), 'x.yaml', { keys: { age: [AGE_B] } }))).toMatch(/^no creation rule in .* matches x\.yaml$/);
  });

  it('no keys and no config says so and how to fix it', async () => {
    const root = repo('', 'unrelated.txt');
    const message = await asyncConfigErrorOf(() => resolveIn(root, 'f.yaml'));
    expect(message).toBe('no keys to encrypt f.yaml with: no config file found (.sopsrc, .sops.yaml); pass --age, set SOPS_AGE_RECIPIENTS, or add a creation rule with keys to .sopsrc');
  });

  it('no keys with a config without creation_rules names the config', async () => {
    const root = repo('stores: {}\n');
    expect(await asyncConfigErrorOf(() => resolveIn(root, 'f.yaml'))).toMatch(new RegExp(`^no keys to encrypt f\\.yaml with: ${join(root, '.sopsrc')} has no creation_rules; pass --age`));
  });

  it('no keys in the matched rule fails as sops does, with an empty key group', async () => {
    const root = repo(`creation_rules:\n  - path_regex: ^a/\n    age: ${AGE_A}\n  - encrypted_suffix: _s\n`);
    await expect(resolveIn(root, 'b/f.yaml')).rejects.toThrow('Could not generate data key: [empty key group provided]');
  });

  it('a broken config found by discovery fails with its line', async () => {
    const root = repo(`creation_rules:\n  - age: ${AGE_A}\n    encrypted_regex: "("\n`);
    expect(await asyncConfigErrorOf(() => resolveIn(root, 'f.yaml', { keys: { age: [AGE_B] } }))).toMatch(new RegExp(`^${join(root, '.sopsrc')}:3: creation_rules\\[0\\]\\.encrypted_regex is not a valid regular expression`));
  });

  it.skipIf(!HAS_INTEROP)('the sops-age interop config loads with a warning for its misspelt path_regexp', async () => {
    const dir = join(INTEROP, 'sops-age-repo');
    const warnings: string[] = [];
    const result = await resolveEncryptSettings({ file: 'secret.yaml', cwd: dir, env: {}, flags: {}, warn: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/\.sops\.yaml:3: unknown field 'path_regexp' in creation_rules\[0\].*applies to every file/);
    expect(result.settings.keyGroups[0]).toHaveLength(3);
  });
});

describe('parseEncryptionContext', () => {
  it('reads k:v pairs, trimming and skipping empty ones', () => {
    expect(parseEncryptionContext('a:1, b:two,,')).toEqual({ a: '1', b: 'two' });
    expect(parseEncryptionContext('')).toEqual({});
    expect(parseEncryptionContext('k:')).toEqual({ k: '' });
  });

  it.each(['a', 'a:1:2', ':v', 'a:1,b'])('rejects %j with exit code 6', (text) => {
    let caught: unknown;
    try {
      parseEncryptionContext(text);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(TsopsError);
    expect(exitCodeOfError(caught as TsopsError)).toBe(ExitCode.InvalidEncryptionContext);
    expect((caught as TsopsError).message).toMatch(/^invalid encryption context pair "[^"]*": expected key:value/);
  });

  it('property: any map of colon- and comma-free keys and values round-trips', () => {
    const word = fc.stringMatching(/^[A-Za-z0-9_.\-/]{1,10}$/);
    fc.assert(
      fc.property(fc.dictionary(word, word, { maxKeys: 6 }), (context) => {
        const text = Object.entries(context).map(([k, v]) => `${k}:${v}`).join(',');
        expect(parseEncryptionContext(text)).toEqual(context);
      }),
    );
  });

  it('configErrorOf helper rejects non-ConfigErrors (sanity)', () => {
    expect(() => configErrorOf(() => parseEncryptionContext('bad'))).toThrow();
  });
});

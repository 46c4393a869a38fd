import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { RULE_KINDS } from '../../src/sops/rules.js';
import { AGE_A, AGE_B, AGE_C, configErrorOf, FIXTURE_REPO, INTEROP, KMS_ARN, PGP_FP, ROLE_ARN } from './helpers.js';
import { HAS_INTEROP } from '../support/interop.js';

const rule0 = (yaml: string) => {
  const rules = parseConfig(yaml, '.sopsrc').creationRules;
  expect(rules).toBeDefined();
  return rules![0]!;
};

/** Parses, then throws the first broken rule's error: those fail only the files that reach the rule. */
function parseWithRuleErrors(yaml: string, path: string) {
  const config = parseConfig(yaml, path);
  const broken = config.creationRules?.find((rule) => rule.error)?.error;
  if (broken) throw broken;
  return config;
}

describe('parseConfig: the fixture repo', () => {
  it('reads three rules with their comments and the stores section', () => {
    const path = join(FIXTURE_REPO, '.sopsrc');
    const config = parseConfig(readFileSync(path, 'utf8'), path);
    expect(config.path).toBe(path);
    expect(config.stores).toEqual({ yaml: { indent: 2 }, json: { indent: 2 } });
    const [prod, env, rest] = config.creationRules!;
    expect(config.creationRules).toHaveLength(3);
    expect(prod!.pathRegex).toBe('^prod/.*\\.ya?ml$');
    expect(prod!.keyGroups.map((g) => g.keys.age)).toEqual([[AGE_A], [AGE_B]]);
    expect(prod!.shamirThreshold).toBe(2);
    expect(prod!.rule).toEqual({ kind: 'encrypted_regex', value: '^(password|token)$' });
    expect(env!.keys.age).toEqual([AGE_A, AGE_B]);
    expect(env!.rule).toEqual({ kind: 'unencrypted_suffix', value: '_PUBLIC' });
    expect(env!.macOnlyEncrypted).toBe(true);
    expect(rest!.pathRegex).toBeUndefined();
    expect(rest!.keys.age).toEqual([AGE_B]);
    expect(rest!.rule).toEqual({ kind: 'unencrypted_comment_regex', value: 'public' });
    expect(rest!.macOnlyEncrypted).toBe(false);
  });
});

describe('parseConfig: creation rule fields', () => {
  it('keeps path_regex', () => {
    expect(rule0('creation_rules:\n  - path_regex: \\.env$\n').pathRegex).toBe('\\.env$');
  });

  it('splits age strings on commas, trims and drops empty entries', () => {
    expect(rule0(`creation_rules:\n  - age: " ${AGE_A} ,, ${AGE_B},"\n`).keys.age).toEqual([AGE_A, AGE_B]);
  });

  it('takes age lists as they are, splitting comma-separated items', () => {
    expect(rule0(`creation_rules:\n  - age:\n      - ${AGE_A}, ${AGE_B}\n      - ${AGE_C}\n`).keys.age).toEqual([AGE_A, AGE_B, AGE_C]);
  });

  it('reads pgp strings and lists, removing spaces inside fingerprints', () => {
    expect(rule0(`creation_rules:\n  - pgp: FBC7 B9E2 A4F9 289A C0C1  D484 3D16 CEE4 A273 81B4\n`).keys.pgp).toEqual([PGP_FP]);
    expect(rule0(`creation_rules:\n  - pgp: [${PGP_FP}, D7229043384BCC60326C6FB9D8720D957C3D3074]\n`).keys.pgp).toEqual([PGP_FP, 'D7229043384BCC60326C6FB9D8720D957C3D3074']);
  });

  it('reads kms strings with +role_arn and aws_profile', () => {
    const rule = rule0(`creation_rules:\n  - kms: "${KMS_ARN} + ${ROLE_ARN}, ${KMS_ARN}"\n    aws_profile: dev\n`);
    expect(rule.keys.kms).toEqual([{ arn: KMS_ARN, role: ROLE_ARN, awsProfile: 'dev' }, { arn: KMS_ARN, awsProfile: 'dev' }]);
  });

  it('reads the key kinds tsops cannot use, so that using them can be refused', () => {
    const rule = rule0([
      'creation_rules:',
      '  - gcp_kms: projects/p/locations/l/keyRings/r/cryptoKeys/k',
      '    azure_keyvault: https://v.vault.azure.net/keys/k/1',
      '    hc_vault_transit_uri: [https://vault:8200/v1/transit/keys/k]',
      '    hckms: [tr-west-1:abc]',
    ].join('\n'));
    expect(rule.keys.gcp_kms).toEqual(['projects/p/locations/l/keyRings/r/cryptoKeys/k']);
    expect(rule.keys.azure_kv).toEqual(['https://v.vault.azure.net/keys/k/1']);
    expect(rule.keys.hc_vault).toEqual(['https://vault:8200/v1/transit/keys/k']);
    expect(rule.keys.hckms).toEqual(['tr-west-1:abc']);
  });

  it('reads key_groups with nested merge and every item kind', () => {
    const rule = rule0([
      'creation_rules:',
      '  - key_groups:',
      '      - merge:',
      '          - age: [' + AGE_C + ']',
      '            merge:',
      '              - pgp: [' + PGP_FP + ']',
      '        age:',
      '          - ' + AGE_A + ',' + AGE_B,
      '        kms:',
      '          - arn: ' + KMS_ARN,
      '            role: ' + ROLE_ARN,
      '            context: {team: web, env: prod}',
      '            aws_profile: ops',
      '        gcp_kms: [{resource_id: projects/p/locations/l/keyRings/r/cryptoKeys/k}]',
      '        hckms: [{key_id: "tr-west-1:abc"}]',
      '        azure_keyvault: [{vaultUrl: "https://v.vault.azure.net", key: k, version: "1"}]',
      '        hc_vault: [https://vault:8200/v1/transit/keys/k]',
      '      - pgp: [' + PGP_FP + ']',
    ].join('\n'));
    const [first, second] = rule.keyGroups;
    expect(rule.keyGroups).toHaveLength(2);
    expect(first!.line).toBe(3);
    expect(first!.merge[0]!.keys.age).toEqual([AGE_C]);
    expect(first!.merge[0]!.merge[0]!.keys.pgp).toEqual([PGP_FP]);
    expect(first!.keys.age).toEqual([AGE_A, AGE_B]);
    expect(first!.keys.kms).toEqual([{ arn: KMS_ARN, role: ROLE_ARN, context: { team: 'web', env: 'prod' }, awsProfile: 'ops' }]);
    expect(first!.keys.gcp_kms).toEqual(['projects/p/locations/l/keyRings/r/cryptoKeys/k']);
    expect(first!.keys.hckms).toEqual(['tr-west-1:abc']);
    expect(first!.keys.azure_kv).toEqual([{ vaultUrl: 'https://v.vault.azure.net', key: 'k', version: '1' }]);
    expect(first!.keys.hc_vault).toEqual(['https://vault:8200/v1/transit/keys/k']);
    expect(second!.keys.pgp).toEqual([PGP_FP]);
  });

  it('reads shamir_threshold; 0 means "all groups" and is left unset', () => {
    const groups = `    key_groups: [{age: [${AGE_A}]}, {age: [${AGE_B}]}, {age: [${AGE_C}]}]\n`;
    expect(rule0(`creation_rules:\n  - shamir_threshold: 2\n${groups}`).shamirThreshold).toBe(2);
    expect(rule0(`creation_rules:\n  - shamir_threshold: 0\n${groups}`).shamirThreshold).toBeUndefined();
  });

  it.each(RULE_KINDS)('turns %s into that encryption rule', (kind) => {
    expect(rule0(`creation_rules:\n  - ${kind}: "^sec"\n`).rule).toEqual({ kind, value: '^sec' });
  });

  it('treats an empty rule field as unset, as sops does', () => {
    const rule = rule0(`creation_rules:\n  - unencrypted_suffix: ""\n    encrypted_regex: ^pw$\n`);
    expect(rule.rule).toEqual({ kind: 'encrypted_regex', value: '^pw$' });
    expect(rule0(`creation_rules:\n  - age: ${AGE_A}\n`).rule).toBeUndefined();
  });

  it('reads mac_only_encrypted', () => {
    expect(rule0('creation_rules:\n  - mac_only_encrypted: true\n').macOnlyEncrypted).toBe(true);
    expect(rule0('creation_rules:\n  - mac_only_encrypted: false\n').macOnlyEncrypted).toBe(false);
  });

  it('records each rule\'s position and line', () => {
    const rules = parseConfig(`# header\ncreation_rules:\n  - age: ${AGE_A}\n\n  - age: ${AGE_B}\n`, '.sopsrc').creationRules!;
    expect(rules.map((r) => [r.index, r.line])).toEqual([[0, 3], [1, 5]]);
  });

  it('resolves anchors, aliases and << merge keys', () => {
    const rules = parseConfig([
      'creation_rules:',
      '  - &base',
      '    path_regex: ^a/',
      '    age: &alice ' + AGE_A,
      '    encrypted_suffix: _secret',
      '  - <<: *base',
      '    path_regex: ^b/',
      '    key_groups:',
      '      - age: [*alice, ' + AGE_B + ']',
    ].join('\n'), '.sopsrc').creationRules!;
    expect(rules[1]!.pathRegex).toBe('^b/');
    expect(rules[1]!.keys.age).toEqual([AGE_A]);
    expect(rules[1]!.rule).toEqual({ kind: 'encrypted_suffix', value: '_secret' });
    expect(rules[1]!.keyGroups[0]!.keys.age).toEqual([AGE_A, AGE_B]);
  });

  it('property: a comma-separated string and a YAML list of the same keys read the same', () => {
    const key = fc.stringMatching(/^age1[a-z0-9]{1,20}$/);
    fc.assert(
      fc.property(fc.array(key, { minLength: 1, maxLength: 6 }), fc.array(fc.constantFrom('', ' ', '  '), { minLength: 1, maxLength: 3 }), (keys, pads) => {
        const pad = (i: number) => pads[i % pads.length]!;
        const asString = keys.map((k, i) => `${pad(i)}${k}${pad(i + 1)}`).join(',') + ',';
        const fromString = rule0(`creation_rules:\n  - age: "${asString}"\n`).keys.age;
        const fromList = rule0(`creation_rules:\n  - age:\n${keys.map((k) => `      - ${k}\n`).join('')}`).keys.age;
        expect(fromString).toEqual(keys);
        expect(fromList).toEqual(keys);
      }),
    );
  });
});

describe('parseConfig: top level, stores and destination rules', () => {
  it('an empty file, or no creation_rules, is a config without rules', () => {
    expect(parseConfig('', '.sopsrc').creationRules).toBeUndefined();
    expect(parseConfig('# only a comment\n', '.sopsrc').creationRules).toBeUndefined();
    expect(parseConfig('creation_rules:\n', '.sopsrc').creationRules).toBeUndefined();
    expect(parseConfig('stores: {json: {indent: 4}}\n', '.sopsrc').creationRules).toBeUndefined();
  });

  it('an empty creation_rules list is present (and then matches nothing)', () => {
    expect(parseConfig('creation_rules: []\n', '.sopsrc').creationRules).toEqual([]);
  });

  it('reads the indent of each store and accepts empty dotenv and ini sections', () => {
    const config = parseConfig('stores:\n  yaml: {indent: 6}\n  json: {indent: -1}\n  json_binary: {indent: 3}\n  dotenv: {}\n  ini: {}\n', '.sopsrc');
    expect(config.stores).toEqual({ yaml: { indent: 6 }, json: { indent: -1 }, json_binary: { indent: 3 } });
  });

  it('keeps destination rules with their recreation rule', () => {
    const config = parseConfig([
      'destination_rules:',
      '  - path_regex: ^s3/',
      '    s3_bucket: bucket',
      '    s3_prefix: pre/',
      '    omit_extensions: true',
      '    recreation_rule:',
      '      age: ' + AGE_A,
      '  - gcs_bucket: g',
      '    gcs_prefix: p',
      '    vault_path: secret/x',
      '    vault_address: https://vault:8200',
      '    vault_kv_mount_name: kv',
      '    vault_kv_version: 2',
    ].join('\n'), '.sopsrc');
    const [s3, other] = config.destinationRules;
    expect(s3).toMatchObject({ pathRegex: '^s3/', s3Bucket: 'bucket', s3Prefix: 'pre/', omitExtensions: true });
    expect(s3!.recreationRule!.keys.age).toEqual([AGE_A]);
    expect(other).toMatchObject({ gcsBucket: 'g', gcsPrefix: 'p', vaultPath: 'secret/x', vaultAddress: 'https://vault:8200', vaultKvMountName: 'kv', vaultKvVersion: 2, omitExtensions: false });
  });
});

describe('parseConfig: errors name the file, the line and the field', () => {
  const cases: [string, string, number, RegExp][] = [
    ['unknown store field', 'stores:\n  yaml:\n    indentation: 2\n', 3, /unknown field 'indentation' in stores\.yaml/],
    ['option in dotenv store', 'stores:\n  dotenv:\n    indent: 2\n', 3, /unknown field 'indent' in stores\.dotenv/],
    ['creation_rules not a list', 'creation_rules:\n  age: x\n', 2, /creation_rules must be a list/],
    ['rule not a mapping', 'creation_rules:\n  - just-a-string\n', 2, /creation_rules\[0\] must be a mapping/],
    ['age as a mapping', 'creation_rules:\n  - age: {a: b}\n', 2, /creation_rules\[0\]\.age must be a string or a list of strings/],
    ['age list holding a mapping', 'creation_rules:\n  - age:\n      - {a: b}\n', 3, /creation_rules\[0\]\.age\[0\] must be a string/],
    ['mac_only_encrypted as a string', 'creation_rules:\n  - mac_only_encrypted: "yes"\n', 2, /creation_rules\[0\]\.mac_only_encrypted must be true or false/],
    ['shamir_threshold as a string', 'creation_rules:\n  - shamir_threshold: "2"\n', 2, /creation_rules\[0\]\.shamir_threshold must be a whole number/],
    ['shamir_threshold as a fraction', 'creation_rules:\n  - shamir_threshold: 1.5\n', 2, /must be a whole number/],
    ['shamir_threshold negative', 'creation_rules:\n  - shamir_threshold: -1\n', 2, /shamir_threshold must be from 0 to 255/],
    ['shamir_threshold too large', 'creation_rules:\n  - shamir_threshold: 256\n', 2, /shamir_threshold must be from 0 to 255/],
    ['shamir_threshold above the group count', `creation_rules:\n  - key_groups: [{age: [${AGE_A}]}, {age: [${AGE_B}]}]\n    shamir_threshold: 3\n`, 3, /shamir_threshold is 3 but creation_rules\[0\] has only 2 key groups/],
    ['shamir_threshold of 1 with groups', `creation_rules:\n  - key_groups: [{age: [${AGE_A}]}, {age: [${AGE_B}]}]\n    shamir_threshold: 1\n`, 3, /shamir_threshold must be at least 2/],
    ['key_groups not a list', 'creation_rules:\n  - key_groups: x\n', 2, /key_groups must be a list/],
    ['key group age as a string', 'creation_rules:\n  - key_groups:\n      - age: x\n', 3, /key_groups\[0\]\.age must be a list/],
    ['kms item without arn', 'creation_rules:\n  - key_groups:\n      - kms:\n          - role: r\n', 4, /kms\[0\]\.arn is required/],
    ['kms context not a map', `creation_rules:\n  - key_groups:\n      - kms:\n          - arn: a\n            context: [x]\n`, 5, /kms\[0\]\.context must be a mapping of strings/],
    ['invalid path_regex', 'creation_rules:\n  - age: x\n  - path_regex: "a(b"\n', 3, /creation_rules\[1\]\.path_regex is not a valid regular expression/],
    ['invalid encrypted_regex', 'creation_rules:\n  - encrypted_regex: "[z-a]"\n', 2, /creation_rules\[0\]\.encrypted_regex is not a valid regular expression/],
    ['invalid unencrypted_comment_regex', 'creation_rules:\n  - unencrypted_comment_regex: "*x"\n', 2, /unencrypted_comment_regex is not a valid regular expression/],
    ['two rule fields', 'creation_rules:\n  - encrypted_suffix: _s\n    unencrypted_regex: ^p\n', 3, /creation_rules\[0\] sets encrypted_suffix, unencrypted_regex: only one of the suffix and regex fields may be set/],
    ['negative yaml indent', 'stores:\n  yaml: {indent: -1}\n', 2, /stores\.yaml\.indent must be 0 or more/],
    ['json indent below -1', 'stores:\n  json:\n    indent: -2\n', 3, /stores\.json\.indent must be -1/],
    ['json_binary indent below -1', 'stores:\n  json_binary:\n    indent: -5\n', 3, /stores\.json_binary\.indent must be -1/],
    ['indent not a number', 'stores:\n  json:\n    indent: two\n', 3, /stores\.json\.indent must be a whole number/],
    ['duplicate field', `creation_rules:\n  - age: ${AGE_A}\n    age: ${AGE_B}\n`, 3, /invalid YAML: Map keys must be unique/],
    ['unknown alias', 'creation_rules:\n  - age: *nobody\n', 2, /alias|invalid YAML/],
    ['bad destination field', 'destination_rules:\n  - s3_bucket: b\n    s3_buckit: c\n', 3, /unknown field 's3_buckit' in destination_rules\[0\]/],
    ['top level not a mapping', '- a\n- b\n', 1, /the config must be a mapping/],
  ];

  it.each(cases)('%s', (_name, yaml, line, pattern) => {
    const message = configErrorOf(() => parseWithRuleErrors(yaml, 'conf/.sopsrc'));
    expect(message.startsWith(`conf/.sopsrc:${line}: `), message).toBe(true);
    expect(message).toMatch(pattern);
  });

  it('malformed YAML gives the line and no source excerpt', () => {
    const text = 'creation_rules:\n  - age: x\n    password: "hunter2-very-secret\n';
    const message = configErrorOf(() => parseConfig(text, '.sopsrc'));
    expect(message).toMatch(/^\.sopsrc:\d+: invalid YAML: /);
    expect(message).not.toContain('hunter2');
    const unbalanced = configErrorOf(() => parseConfig('creation_rules:\n  - age: [hunter2-secret\n', '.sopsrc'));
    expect(unbalanced).toMatch(/^\.sopsrc:\d+: invalid YAML/);
    expect(unbalanced).not.toContain('hunter2');
  });

  it('does not quote field values in type errors', () => {
    const message = configErrorOf(() => parseWithRuleErrors('creation_rules:\n  - mac_only_encrypted: hunter2-secret\n', '.sopsrc'));
    expect(message).not.toContain('hunter2');
  });

  it.skipIf(!HAS_INTEROP)('warns about the typo in a real sops config, which makes the rule match every file', () => {
    const path = join(INTEROP, 'sops-age-repo/.sops.yaml');
    const config = parseConfig(readFileSync(path, 'utf8'), path);
    expect(config.warnings).toEqual([`${path}:3: unknown field 'path_regexp' in creation_rules[0] (did you mean 'path_regex'?); ignored, as sops does, so this rule applies to every file`]);
    expect(config.creationRules![0]!.pathRegex).toBeUndefined();
  });

  it('ignores other top-level fields (anchors live there) and only warns about unknown rule and group fields', () => {
    const config = parseConfig(
      `keys:
  - &alice ${AGE_A}
  - &bob ${AGE_B}
store: {}
creation_rules:
  - age: *alice
  - path_regex: x
    agee: [x]
    key_groups:
      - age: [*bob]
        pgpp: [y]
      - merge:
          - {}
  - key_groups: []
`,
      'c.yaml',
    );
    expect(config.warnings).toEqual([
      "c.yaml:8: unknown field 'agee' in creation_rules[1] (did you mean 'age'?); ignored, as sops does",
      "c.yaml:11: unknown field 'pgpp' in creation_rules[1].key_groups[0] (did you mean 'pgp'?); ignored, as sops does",
    ]);
    expect(config.creationRules![0]!.keys.age).toEqual([AGE_A]);
    expect(config.creationRules![1]!.keyGroups[0]!.keys.age).toEqual([AGE_B]);
    expect(config.creationRules![2]!.keyGroups).toEqual([]);
    const kms = parseConfig(`creation_rules:\n  - key_groups:\n      - kms:\n          - arn: ${KMS_ARN}\n            region: x\n`, 'k.yaml');
    expect(kms.warnings).toEqual(["k.yaml:5: unknown field 'region' in creation_rules[0].key_groups[0].kms[0]; ignored, as sops does"]);
    expect(kms.creationRules![0]!.keyGroups[0]!.keys.kms![0]!.arn).toBe(KMS_ARN);
  });

  it.skipIf(!HAS_INTEROP)('accepts that real config once the typo is fixed', () => {
    const path = join(INTEROP, 'sops-age-repo/.sops.yaml');
    const config = parseConfig(readFileSync(path, 'utf8').replace('path_regexp', 'path_regex'), path);
    const rule = config.creationRules![0]!;
    expect(rule.pathRegex).toBe('\\.(yml|yaml|json|env)$');
    expect(rule.keyGroups[0]!.keys.age).toHaveLength(3);
    expect(rule.keyGroups[0]!.keys.age![0]).toBe('age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr');
  });
});

describe('docs/config.md', () => {
  it('its example config parses, comments and all', () => {
    const doc = readFileSync(join(FIXTURE_REPO, '../../docs/config.md'), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(example).toBeDefined();
    const config = parseConfig(example!, 'docs/config.md');
    expect(config.creationRules).toHaveLength(2);
    expect(config.creationRules![0]!.shamirThreshold).toBe(2);
    expect(config.stores.yaml).toEqual({ indent: 2 });
  });
});

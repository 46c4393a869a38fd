import { describe, expect, it } from 'vitest';
import { destinationUrl, matchDestinationRule, vaultSecretPath } from '../../src/config/destinations.js';
import { parseConfig } from '../../src/config/index.js';

const CONFIG = '/repo/.sops.yaml';
const match = (yaml: string, file: string, cwd = '/repo') => matchDestinationRule(parseConfig(`destination_rules:\n${yaml}`, CONFIG), CONFIG, file, cwd);

describe('matchDestinationRule', () => {
  it('takes the first rule whose path_regex matches the path relative to the config directory', () => {
    const rules = '  - path_regex: ^prod/\n    s3_bucket: prod\n  - path_regex: \\.json$\n    s3_bucket: json\n  - s3_bucket: rest\n';
    expect(match(rules, 'prod/a.json').destination).toEqual({ kind: 's3', bucket: 'prod', prefix: '' });
    expect(match(rules, 'a.json', '/repo/prod').destination).toMatchObject({ bucket: 'prod' });
    expect(match(rules, 'dev/a.json').destination).toMatchObject({ bucket: 'json' });
    expect(match(rules, 'dev/a.yaml').destination).toMatchObject({ bucket: 'rest' });
  });

  it('fills in sops\'s Vault defaults: trailing slashes, mount secret/, KV version 2 unless 1', () => {
    const d = match('  - vault_path: app\n    vault_kv_version: 3\n', 'x.yaml').destination!;
    expect(d).toEqual({ kind: 'vault', path: 'app/', mount: 'secret/', kvVersion: 2 });
    expect(vaultSecretPath(d as Extract<typeof d, { kind: 'vault' }>, 'x.yaml')).toBe('secret/data/app/x.yaml');
    const v1 = match('  - vault_path: app/\n    vault_kv_mount_name: kv\n    vault_kv_version: 1\n    vault_address: https://v:8200\n', 'x.yaml').destination!;
    expect(destinationUrl(v1, 'x.yaml', 'https://v:8200')).toBe('https://v:8200/v1/kv/app/x.yaml');
    expect(destinationUrl(match('  - gcs_bucket: g\n    gcs_prefix: p/\n', 'x').destination!, 'x', '')).toBe('gcs://g/p/x');
  });

  it('refuses a rule with two destinations, and a file no rule matches, with sops\'s messages', () => {
    expect(() => match('  - s3_bucket: b\n    gcs_bucket: g\n', 'x.yaml')).toThrow(/more than one destinations were found in a single destination rule/);
    expect(() => match('  - path_regex: ^nope\n    s3_bucket: b\n', 'x.yaml')).toThrow(/^error loading config: no matching destination found in config$/);
    expect(() => matchDestinationRule(parseConfig('creation_rules: []\n', CONFIG), CONFIG, 'x.yaml', '/repo')).toThrow(/no matching destination/);
  });

  it('refuses a destination field holding a control character, and a vault_address that is not a server URL', () => {
    expect(() => match('  - s3_bucket: "b\\e[31m"\n', 'x.yaml')).toThrow(/destination_rules\[0\] \(\/repo\/\.sops\.yaml:2\): s3_bucket holds a control character/);
    expect(() => match('  - vault_path: p\n    vault_address: file:///etc/passwd\n', 'x.yaml')).toThrow(/vault_address must be an http:\/\/ or https:\/\/ server address/);
    expect(() => match('  - vault_path: p\n    vault_address: https://vault:8200/v1/extra\n', 'x.yaml')).toThrow(/vault_address must be/);
    expect(match('  - vault_path: p\n    vault_address: https://vault.example:8200/\n', 'x.yaml').destination).toMatchObject({ address: 'https://vault.example:8200/' });
  });

  it('a rule without a destination matches but names none', () => {
    const m = match('  - path_regex: x\n    omit_extensions: true\n', 'x.yaml');
    expect(m.destination).toBeUndefined();
    expect(m.omitExtensions).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { attributeOf, isKeyChangeFlag, keyFlagList, keyFlagOptions, keysFromFlags, removedIdentities } from '../../src/cli/key-flags.js';
import { TsopsError } from '../../src/errors.js';
import { ExitCode, exitCodeOfError } from '../../src/cli/exit-codes.js';
import type { KeyKind } from '../../src/keys/kind.js';
import { keyIdentity, type KeyRecord } from '../../src/keys/masterkey.js';
import { KEY_KINDS, KEY_KINDS_BY_LOAD_RANK, wrappableKinds } from '../../src/keys/registry.js';
import { readMetadata, writeMetadata } from '../../src/sops/metadata.js';
import type { MapNode } from '../../src/tree.js';

const kinds: readonly KeyKind[] = KEY_KINDS;
const AGE = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
const ARN = 'arn:aws:kms:us-east-1:123456789012:key/abc';
const ROLE = 'arn:aws:iam::123456789012:role/deployer';
const FP = 'FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4';

function keysOf(node: MapNode): string[] {
  return node.items.flatMap((i) => (i.kind === 'entry' ? [i.key] : []));
}

/** One stored key of every kind, fields as sops writes them. */
const RECORDS: KeyRecord[] = [
  { type: 'age', fields: { recipient: AGE, enc: 'e' } },
  { type: 'pgp', fields: { fp: FP, enc: 'e', created_at: 'c' } },
  { type: 'kms', fields: { arn: ARN, enc: 'e', created_at: 'c' } },
  { type: 'gcp_kms', fields: { resource_id: 'projects/p/locations/l/keyRings/r/cryptoKeys/k', enc: 'e', created_at: 'c' } },
  { type: 'hckms', fields: { key_id: 'tr-west-1:abc', enc: 'e', created_at: 'c' } },
  { type: 'azure_kv', fields: { vault_url: 'https://v.vault.azure.net', name: 'k', version: '1', enc: 'e', created_at: 'c' } },
  { type: 'hc_vault', fields: { vault_address: 'https://vault:8200', engine_path: 'transit', key_name: 'k', enc: 'e', created_at: 'c' } },
];

describe('key kind registry', () => {
  it('gives every kind its own metadata name, spellings, flag, environment variable and load rank', () => {
    const unique = (values: unknown[]) => expect(new Set(values).size).toBe(values.length);
    unique(kinds.map((k) => k.type));
    unique(kinds.map((k) => k.flag));
    unique(kinds.map((k) => k.env));
    unique(kinds.map((k) => k.loadRank));
    unique(kinds.flatMap((k) => k.config.ruleFields));
    unique(kinds.map((k) => k.config.groupField));
    expect(KEY_KINDS_BY_LOAD_RANK.map((k) => k.type)).toEqual(['kms', 'gcp_kms', 'hckms', 'azure_kv', 'hc_vault', 'pgp', 'age']);
    expect(wrappableKinds().map((k) => k.type)).toEqual(['age', 'pgp', 'kms']);
  });

  it('writes one group of every kind in sops order, fields sorted, and reads it back in sops loading order', () => {
    const tree = writeMetadata({ keyGroups: [RECORDS], lastModified: '2026-05-22T20:16:23Z', mac: 'm', macOnlyEncrypted: false, version: '3.13.2' });
    expect(keysOf(tree)).toEqual(['age', 'azure_kv', 'gcp_kms', 'hc_vault', 'hckms', 'kms', 'lastmodified', 'mac', 'pgp', 'version']);
    const kms = tree.items.find((i) => i.kind === 'entry' && i.key === 'kms')!;
    expect(keysOf((kms as any).value.items[0])).toEqual(['arn', 'aws_profile', 'created_at', 'enc']);
    const back = readMetadata(tree);
    expect(back.keyGroups[0]!.map((r) => r.type)).toEqual(['kms', 'gcp_kms', 'hckms', 'azure_kv', 'hc_vault', 'pgp', 'age']);
  });

  it('writes every key group with age and hc_vault lists even when empty, fields sorted', () => {
    const tree = writeMetadata({ keyGroups: [[RECORDS[1]!], RECORDS.slice(2)], shamirThreshold: 2, lastModified: '2026-05-22T20:16:23Z', mac: 'm', macOnlyEncrypted: false, version: '3.13.2' });
    const groups = (tree.items.find((i) => i.kind === 'entry' && i.key === 'key_groups') as any).value.items;
    expect(keysOf(groups[0])).toEqual(['age', 'hc_vault', 'pgp']);
    expect(keysOf(groups[1])).toEqual(['age', 'azure_kv', 'gcp_kms', 'hc_vault', 'hckms', 'kms']);
  });

  it('identifies stored keys as sops compares them', () => {
    expect(RECORDS.map(keyIdentity)).toEqual([
      AGE,
      FP,
      ARN,
      'projects/p/locations/l/keyRings/r/cryptoKeys/k',
      'tr-west-1:abc',
      'https://v.vault.azure.net/keys/k/1',
      'https://vault:8200/v1/transit/keys/k',
    ]);
    expect(keyIdentity({ type: 'kms', fields: { arn: ARN, role: ROLE, context: { b: '2', a: '1' }, aws_profile: 'ops' } })).toBe(`${ARN}+${ROLE}|a:1,b:2|ops`);
  });
});

describe('key flags from the registry', () => {
  it('spells commander attributes and the sops key-change flags, also of kinds only kept as read', () => {
    expect(attributeOf('--add-gcp-kms')).toBe('addGcpKms');
    expect(attributeOf('rm-hc-vault-transit')).toBe('rmHcVaultTransit');
    expect(['--add-age', '--rm-kms=x', '--add-gcp-kms', '--rm-azure-kv', '--add-hc-vault-transit'].every(isKeyChangeFlag)).toBe(true);
    expect(['--age', '--add-agent', '--addage', '--rm-'].some(isKeyChangeFlag)).toBe(false);
    expect(keyFlagList()).toBe('--age, --pgp or --kms');
  });

  it('reads --add-* keys with their kind, comma lists split, and --rm-* as identities', () => {
    const flags = { addAge: `${AGE}, ${AGE}`, addPgp: 'FBC7 B9E2 A4F9 289A C0C1  D484 3D16 CEE4 A273 81B4', addKms: `${ARN}+${ROLE}`, rmKms: `${ARN} + ${ROLE}`, rmAge: AGE };
    expect(keysFromFlags(flags, 'add-')).toEqual([
      { type: 'age', recipient: AGE },
      { type: 'age', recipient: AGE },
      { type: 'pgp', fingerprint: FP },
      { type: 'kms', arn: ARN, role: ROLE },
    ]);
    expect(removedIdentities(flags)).toEqual([AGE, `${ARN}+${ROLE}`]);
  });

  it('applies a kind\'s options to its keys only, and checks them even with no key of the kind', () => {
    const options = keyFlagOptions({ awsProfile: 'ops', encryptionContext: 'app:web' });
    expect(keysFromFlags({ kms: [ARN], age: [AGE] }, '', options)).toEqual([
      { type: 'age', recipient: AGE },
      { type: 'kms', arn: ARN, awsProfile: 'ops', context: { app: 'web' } },
    ]);
    let error: unknown;
    try {
      keyFlagOptions({ encryptionContext: 'no-colon' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TsopsError);
    expect(exitCodeOfError(error as TsopsError)).toBe(ExitCode.InvalidEncryptionContext);
  });
});

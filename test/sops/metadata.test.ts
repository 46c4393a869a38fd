import { describe, expect, it } from 'vitest';
import { readMetadata, writeMetadata } from '../../src/sops/metadata.js';
import { list, map, scalar, str, type MapNode } from '../../src/tree.js';
import { MalformedFileError } from '../../src/errors.js';

function keysOf(node: MapNode): string[] {
  return node.items.flatMap((i) => (i.kind === 'entry' ? [i.key] : []));
}

const base = (): [string, any][] => [
  ['lastmodified', str('2026-05-22T20:16:23Z')],
  ['mac', str('ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]')],
  ['version', str('3.13.2')],
];

describe('sops metadata', () => {
  it('writes keys sorted, with one group at the top level', () => {
    const tree = writeMetadata({
      keyGroups: [[{ type: 'pgp', fields: { fp: 'AB', enc: 'e', created_at: '2026-01-01T00:00:00Z' } }, { type: 'age', fields: { recipient: 'age1x', enc: 'e\n' } }]],
      lastModified: '2026-05-22T20:16:23Z',
      mac: 'm',
      macOnlyEncrypted: false,
      rule: { kind: 'unencrypted_suffix', value: '_unencrypted' },
      version: '3.13.2',
    });
    expect(keysOf(tree)).toEqual(['age', 'lastmodified', 'mac', 'pgp', 'unencrypted_suffix', 'version']);
    const pgp = (tree.items[3] as any).value.items[0];
    expect(keysOf(pgp)).toEqual(['created_at', 'enc', 'fp']);
  });

  it('writes several groups as key_groups with age and hc_vault always present', () => {
    const tree = writeMetadata({
      keyGroups: [[{ type: 'age', fields: { recipient: 'a', enc: 'e' } }], [{ type: 'pgp', fields: { fp: 'F', enc: 'e', created_at: 'c' } }]],
      shamirThreshold: 2,
      lastModified: '2026-05-22T20:16:23Z',
      mac: 'm',
      macOnlyEncrypted: true,
      version: '3.13.2',
    });
    expect(keysOf(tree)).toEqual(['key_groups', 'lastmodified', 'mac', 'mac_only_encrypted', 'shamir_threshold', 'version']);
    const groups = (tree.items[0] as any).value.items;
    expect(keysOf(groups[0])).toEqual(['age', 'hc_vault']);
    expect(keysOf(groups[1])).toEqual(['age', 'hc_vault', 'pgp']);
  });

  it('reads what it writes, and loose types from flat stores', () => {
    const m = {
      keyGroups: [[{ type: 'kms' as const, fields: { arn: 'arn:aws:kms:eu-west-1:1:key/x', aws_profile: '', context: { a: 'b' }, created_at: 'c', enc: 'e' } }], [{ type: 'age' as const, fields: { recipient: 'a', enc: 'e' } }]],
      shamirThreshold: 2,
      lastModified: '2026-05-22T20:16:23Z',
      mac: 'm',
      macOnlyEncrypted: true,
      rule: { kind: 'encrypted_regex' as const, value: '^data$' },
      version: '3.13.2',
    };
    expect(readMetadata(writeMetadata(m))).toEqual(m);
    const flat = map([...base(), ['shamir_threshold', str('2')], ['mac_only_encrypted', str('true')], ['age', list([map([['recipient', str('a')], ['enc', str('e')]])])]]);
    const read = readMetadata(flat);
    expect(read.macOnlyEncrypted).toBe(true);
    expect(read.shamirThreshold).toBe(2);
  });

  it('accepts old layouts: any order, unknown keys, null lists, upper-case names', () => {
    const old = map([['KMS', scalar('null', null)], ['attention', str('x')], ['PGP', list([map([['fp', str('F')], ['enc', str('e')]])])], ...base()]);
    expect(readMetadata(old).keyGroups).toEqual([[{ type: 'pgp', fields: { fp: 'F', enc: 'e' } }]]);
  });

  it.each([
    ['no keys', map(base()), /no master keys/],
    ['two rules', map([...base(), ['age', list([map([['recipient', str('a')]])])], ['encrypted_regex', str('a')], ['unencrypted_suffix', str('b')]]), /more than one/],
    ['bad lastmodified', map([['lastmodified', str('soon')], ['mac', str('m')], ['version', str('3.0.0')], ['age', list([map([['recipient', str('a')]])])]]), /lastmodified/],
    ['bad version', map([['lastmodified', str('2026-05-22T20:16:23Z')], ['version', str('three')], ['age', list([map([['recipient', str('a')]])])]]), /version/],
    ['keys not a list', map([...base(), ['age', str('age1')]]), /not a list/],
  ])('refuses metadata with %s', (_name, tree, message) => {
    expect(() => readMetadata(tree)).toThrow(MalformedFileError);
    expect(() => readMetadata(tree)).toThrow(message);
  });
});

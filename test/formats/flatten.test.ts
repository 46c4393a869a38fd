import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedFileError } from '../../src/errors.js';
import { flattenMetadata, unflattenMetadata } from '../../src/formats/flatten.js';
import { comment, list, map, scalar, str, toPlain, type ListNode, type MapNode, type Node } from '../../src/tree.js';

describe('flattenMetadata', () => {
  it('writes the sops dotenv example: sorted keys, __list_/__map_ paths, raw multi-line values', () => {
    const enc = '-----BEGIN PGP MESSAGE-----\n\nwcBMA\n=5coz\n-----END PGP MESSAGE-----';
    const metadata = map([
      ['version', str('3.13.1')],
      ['unencrypted_suffix', str('_unencrypted')],
      ['pgp', list([map([['fp', str('FBC7')], ['enc', str(enc)], ['created_at', str('2026-05-22T20:15:26Z')]])])],
      ['mac', str('ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]')],
      ['lastmodified', str('2026-05-22T20:15:29Z')],
    ]);
    expect(flattenMetadata(metadata)).toEqual([
      ['lastmodified', '2026-05-22T20:15:29Z'],
      ['mac', 'ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]'],
      ['pgp__list_0__map_created_at', '2026-05-22T20:15:26Z'],
      ['pgp__list_0__map_enc', enc],
      ['pgp__list_0__map_fp', 'FBC7'],
      ['unencrypted_suffix', '_unencrypted'],
      ['version', '3.13.1'],
    ]);
  });

  it('flattens key groups, KMS contexts and typed scalars; empty lists and nulls give nothing', () => {
    const metadata = map([
      ['shamir_threshold', scalar('int', 2n)],
      ['mac_only_encrypted', scalar('bool', true)],
      ['kms', list()],
      ['gone', scalar('null', null)],
      [
        'key_groups',
        list([
          map([['age', list([map([['recipient', str('age1a')], ['enc', str('x\n')]])])], ['hc_vault', list()]]),
          map([['kms', list([map([['arn', str('arn:1')], ['aws_profile', str('')], ['context', map([['b', str('2')], ['a', str('1')]])]])])]]),
        ]),
      ],
    ]);
    expect(flattenMetadata(metadata)).toEqual([
      ['key_groups__list_0__map_age__list_0__map_enc', 'x\n'],
      ['key_groups__list_0__map_age__list_0__map_recipient', 'age1a'],
      ['key_groups__list_1__map_kms__list_0__map_arn', 'arn:1'],
      ['key_groups__list_1__map_kms__list_0__map_aws_profile', ''],
      ['key_groups__list_1__map_kms__list_0__map_context__map_a', '1'],
      ['key_groups__list_1__map_kms__list_0__map_context__map_b', '2'],
      ['mac_only_encrypted', 'true'],
      ['shamir_threshold', '2'],
    ]);
  });

  it('sorts keys in UTF-8 byte order, as Go does', () => {
    const metadata = map([['a', str('1')], ['_', str('2')], ['B', str('3')], ['\u{1F600}', str('4')], ['\uFFFD', str('5')]]);
    expect(flattenMetadata(metadata).map(([k]) => k)).toEqual(['B', '_', 'a', '\uFFFD', '\u{1F600}']);
  });

  it('numbers list items without counting comments in the list', () => {
    const pgp: ListNode = { kind: 'list', items: [comment('x'), map([['fp', str('A')]]), comment('y'), map([['fp', str('B')]])] };
    const metadata = map([['pgp', pgp]]);
    expect(flattenMetadata(metadata)).toEqual([
      ['pgp__list_0__map_fp', 'A'],
      ['pgp__list_1__map_fp', 'B'],
    ]);
  });
});

describe('unflattenMetadata', () => {
  it('rebuilds lists and maps from pairs in any order, every leaf a str scalar', () => {
    const tree = unflattenMetadata([
      ['version', '3.8.1'],
      ['age__list_1__map_recipient', 'age1b'],
      ['age__list_0__map_enc', 'E0\n'],
      ['age__list_0__map_recipient', 'age1a'],
      ['age__list_1__map_enc', 'E1\n'],
      ['shamir_threshold', '2'],
    ]);
    expect(toPlain(tree)).toEqual({
      version: '3.8.1',
      age: [
        { enc: 'E0\n', recipient: 'age1a' },
        { enc: 'E1\n', recipient: 'age1b' },
      ],
      shamir_threshold: '2',
    });
    const threshold = tree.items.find((i) => i.kind === 'entry' && i.key === 'shamir_threshold');
    expect(threshold).toMatchObject({ value: { kind: 'scalar', type: 'str', value: '2' } });
  });

  it('closes gaps in list indices and keeps their order', () => {
    expect(toPlain(unflattenMetadata([['l__list_7', 'c'], ['l__list_2', 'b'], ['l__list_0', 'a']]))).toEqual({ l: ['a', 'b', 'c'] });
  });

  it('copes with an absurd list index without building a huge list', () => {
    expect(toPlain(unflattenMetadata([['l__list_99999999999', 'x']]))).toEqual({ l: ['x'] });
  });

  it('lets a repeated key take the last value', () => {
    expect(toPlain(unflattenMetadata([['mac', 'one'], ['mac', 'two']]))).toEqual({ mac: 'two' });
  });

  it('keeps text that only looks like a separator inside a key', () => {
    expect(toPlain(unflattenMetadata([['a__list_x', '1'], ['b__map_', '2']]))).toEqual({ a__list_x: '1', b: { '': '2' } });
  });

  it('rejects keys that disagree about the shape, naming only the key', () => {
    const cases: [string, string][][] = [
      [['a', 'secret-1'], ['a__map_b', 'secret-2']],
      [['a__map_b', 'secret-1'], ['a', 'secret-2']],
      [['a__list_0', 'secret-1'], ['a__map_b', 'secret-2']],
      [['a__map_b', 'secret-1'], ['a__list_0', 'secret-2']],
    ];
    for (const pairs of cases) {
      let error: unknown;
      try {
        unflattenMetadata(pairs);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MalformedFileError);
      expect((error as Error).message).toMatch(/conflicts/);
      expect((error as Error).message).not.toMatch(/secret/);
    }
  });
});

describe('flatten and unflatten', () => {
  // Keys never hold the separators, and containers are never empty (those flatten to nothing).
  const key = fc.stringMatching(/^[a-z][a-z0-9]{0,6}(_[a-z0-9]{1,4})?$/);
  const leaf: fc.Arbitrary<Node> = fc.string().map((s) => str(s));
  const { tree } = fc.letrec<{ tree: Node; mapNode: Node; listNode: Node }>((tie) => ({
    tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('mapNode'), tie('listNode')),
    mapNode: fc.uniqueArray(fc.tuple(key, tie('tree')), { minLength: 1, maxLength: 4, selector: ([k]) => k }).map((entries) => map(entries)),
    listNode: fc.array(tie('tree'), { minLength: 1, maxLength: 4 }).map((items) => list(items)),
  }));
  const metadata = fc.uniqueArray(fc.tuple(key, tree), { minLength: 1, maxLength: 6, selector: ([k]) => k }).map((entries) => map(entries));

  it('round-trip metadata-shaped trees', () => {
    fc.assert(
      fc.property(metadata, (m: MapNode) => {
        const flat = flattenMetadata(m);
        const back = unflattenMetadata(flat);
        expect(toPlain(back)).toEqual(toPlain(m));
        expect(flattenMetadata(back)).toEqual(flat);
        const shuffled = [...flat].reverse();
        expect(flattenMetadata(unflattenMetadata(shuffled))).toEqual(flat);
      }),
      { numRuns: 300 },
    );
  });
});

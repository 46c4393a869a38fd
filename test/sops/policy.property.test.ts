/**
 * For random trees and random partial-encryption policies, exactly the leaves
 * the policy names are encrypted (checked against the spec's rule, written
 * out independently here), decrypt(encrypt(x)) == x, and sops-age reads the
 * result.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decryptSops } from 'sops-age';
import { loadFormat } from '../../src/formats/format.js';
import { encryptDocument, type EncryptionRule } from '../../src/sops/index.js';
import { verifyOpens } from '../../src/sops/open.js';
import { toPlain, type MapNode, type Node } from '../../src/tree.js';
import { throwawayAgeKey } from '../support/pipeline.js';

const key = await throwawayAgeKey();
const KEYS = ['a', 'b', 'secret', 'pass_enc', 'note_unencrypted', 'token', 'data', 'x_enc', 'public'];

const leaf = fc.oneof(fc.string({ minLength: 1, maxLength: 8 }).filter((s) => s.trim() === s && !/^\d/.test(s)), fc.integer(), fc.boolean());
const treeArb = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leaf.map((v) => ({ leaf: v })), tie('map'), tie('list')),
  map: fc.uniqueArray(fc.tuple(fc.constantFrom(...KEYS), tie('node')), { selector: ([k]) => k, maxLength: 4 }).map((entries) => ({ map: entries })),
  list: fc.array(tie('node'), { maxLength: 3 }).map((items) => ({ list: items })),
}));

const ruleArb: fc.Arbitrary<EncryptionRule> = fc.oneof(
  fc.constantFrom('_unencrypted', '_enc', 'a').map((value) => ({ kind: 'unencrypted_suffix' as const, value })),
  fc.constantFrom('_enc', 'et', 'a').map((value) => ({ kind: 'encrypted_suffix' as const, value })),
  fc.constantFrom('^(secret|token)$', 'pass', '^a$').map((value) => ({ kind: 'encrypted_regex' as const, value })),
  fc.constantFrom('^public$', 'note', 'b').map((value) => ({ kind: 'unencrypted_regex' as const, value })),
);

type Gen = { leaf: string | number | boolean } | { map: [string, Gen][] } | { list: Gen[] };

function toTree(g: Gen): Node {
  if ('leaf' in g) {
    const v = g.leaf;
    if (typeof v === 'string') return { kind: 'scalar', type: 'str', value: v };
    if (typeof v === 'number') return { kind: 'scalar', type: 'int', value: BigInt(v) };
    return { kind: 'scalar', type: 'bool', value: v };
  }
  if ('map' in g) return { kind: 'map', items: g.map.map(([k, v]) => ({ kind: 'entry', key: k, value: toTree(v) })) };
  return { kind: 'list', items: g.list.map(toTree) };
}

/** docs/format.md#which-values-are-encrypted, written out on its own: any path component decides, list levels add nothing. */
function expected(rule: EncryptionRule, path: string[]): boolean {
  const any = (test: (k: string) => boolean): boolean => path.some(test);
  switch (rule.kind) {
    case 'unencrypted_suffix': return !any((k) => k.endsWith(rule.value));
    case 'encrypted_suffix': return any((k) => k.endsWith(rule.value));
    case 'encrypted_regex': return any((k) => new RegExp(rule.value).test(k));
    case 'unencrypted_regex': return !any((k) => new RegExp(rule.value).test(k));
    default: throw new Error('not generated');
  }
}

function leaves(node: Node, path: string[], out: { path: string[]; value: unknown }[]): void {
  if (node.kind === 'scalar') out.push({ path, value: node.value });
  else if (node.kind === 'list') for (const i of node.items) { if (i.kind !== 'comment') leaves(i, path, out); }
  else for (const i of node.items) if (i.kind === 'entry') leaves(i.value, [...path, i.key], out);
}

describe('partial encryption follows the policy exactly', () => {
  it('random trees and policies', async () => {
    const yaml = await loadFormat('yaml');
    await fc.assert(
      fc.asyncProperty(treeArb.map as fc.Arbitrary<Gen>, ruleArb, async (gen, rule) => {
        const doc = toTree(gen) as MapNode;
        if (doc.items.length === 0) return;
        const plain = toPlain(doc);
        const file = { format: 'yaml' as const, documents: [doc] };
        await encryptDocument(file, { keyGroups: [[{ type: 'age', recipient: key.recipient }]], rule }, { env: {} });
        const found: { path: string[]; value: unknown }[] = [];
        leaves(doc, [], found);
        for (const l of found) expect(String(l.value).startsWith('ENC[AES256_GCM,'), `${rule.kind}=${rule.value} at ${l.path.join('.')}`).toBe(expected(rule, l.path));
        const text = Buffer.from(yaml.emit(file)).toString('utf8');
        expect(await decryptSops(text, { secretKey: key.identity, fileType: 'yaml' })).toEqual(plain);
        const back = yaml.parse(Buffer.from(text));
        await verifyOpens(back, { keys: { env: {}, identities: { age: [key.identity] } } });
        expect(toPlain(back.documents[0]!)).toEqual(plain);
      }),
      { numRuns: 80 },
    );
  });
});

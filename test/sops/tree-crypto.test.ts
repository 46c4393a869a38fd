import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { EncryptionPolicy } from '../../src/sops/rules.js';
import { decryptTree, encryptTree, IvCache } from '../../src/sops/tree-crypto.js';
import { comment, list, map, scalar, str, toPlain, type MapNode } from '../../src/tree.js';
import { DecryptionError } from '../../src/errors.js';

const key = randomBytes(32);
const suffix = new EncryptionPolicy({ kind: 'unencrypted_suffix', value: '_unencrypted' });

function sample(): MapNode {
  return map([
    ['password', str('hunter2')],
    ['port', scalar('int', 5432n)],
    ['ratio', scalar('float', 0.5)],
    ['enabled', scalar('bool', true)],
    ['empty', str('')],
    ['nothing', scalar('null', null)],
    ['public_unencrypted', map([['note', str('visible')]])],
    ['list', list([str('a'), comment(' in list'), map([['x', str('y')]])])],
  ]);
}

function valuesOf(doc: MapNode): string[] {
  const out: string[] = [];
  const visit = (n: any): void => {
    if (n.kind === 'scalar') out.push(String(n.value));
    else if (n.kind === 'comment') out.push('#' + n.text);
    else for (const i of n.items) visit(i.kind === 'entry' ? i.value : i);
  };
  visit(doc);
  return out;
}

describe('tree encryption', () => {
  it('encrypts eligible leaves and decrypts them back to the same typed values and MAC', () => {
    const doc = sample();
    const mac = encryptTree([doc], key, suffix, false);
    const v = valuesOf(doc);
    expect(v.filter((x) => /^#?ENC\[/.test(x))).toHaveLength(7);
    expect(v).toContain('visible');
    expect(v).toContain('');
    expect(v).toContain('null');
    const result = decryptTree([doc], key, suffix, false, { keepBytes: false });
    expect(result.mac).toBe(mac);
    expect(toPlain(doc)).toEqual(toPlain(sample()));
    expect(valuesOf(doc)).toEqual(valuesOf(sample()));
  });

  it('binds each value to its path: a value moved to another key fails', () => {
    const doc = map([['a', str('one')], ['b', str('two')]]);
    encryptTree([doc], key, suffix, false);
    const [a, b] = doc.items as any[];
    [a.value.value, b.value.value] = [b.value.value, a.value.value];
    expect(() => decryptTree([doc], key, suffix, false, { keepBytes: false })).toThrow(DecryptionError);
  });

  it('list items share their parent path (no indices), so sops files decrypt', () => {
    const doc = map([['l', list([str('x'), str('y')])]]);
    encryptTree([doc], key, suffix, false);
    const l = (doc.items[0] as any).value;
    [l.items[0].value, l.items[1].value] = [l.items[1].value, l.items[0].value];
    decryptTree([doc], key, suffix, false, { keepBytes: false });
    expect(toPlain(doc)).toEqual({ l: ['y', 'x'] });
  });

  it('reuses IVs for unchanged values so re-encryption is stable', () => {
    const doc = sample();
    encryptTree([doc], key, suffix, false);
    const first = valuesOf(doc);
    const ivs = new IvCache();
    decryptTree([doc], key, suffix, false, { keepBytes: false, ivs });
    (doc.items[0] as any).value.value = 'changed';
    encryptTree([doc], key, suffix, false, ivs);
    const second = valuesOf(doc);
    expect(second.filter((x, i) => x !== first[i])).toHaveLength(1);
  });

  it('refuses a plaintext value where an encrypted one is expected', () => {
    const doc = map([['a', str('not encrypted')]]);
    expect(() => decryptTree([doc], key, suffix, false, { keepBytes: false })).toThrow(/does not match sops' data format/);
    const n = map([['a', scalar('int', 1n)]]);
    expect(() => decryptTree([n], key, suffix, false, { keepBytes: false })).toThrow(/should be encrypted/);
  });

  it('mac_only_encrypted leaves plaintext values out of the MAC', () => {
    const policy = new EncryptionPolicy({ kind: 'encrypted_regex', value: '^secret' });
    const a = map([['secret', str('s')], ['plain', str('p1')]]);
    const b = map([['secret', str('s')], ['plain', str('p2')]]);
    expect(encryptTree([a], key, policy, true)).toBe(encryptTree([b], key, policy, true));
    const c = map([['secret', str('s')], ['plain', str('p1')]]);
    const d = map([['secret', str('s')], ['plain', str('p2')]]);
    expect(encryptTree([c], key, policy, false)).not.toBe(encryptTree([d], key, policy, false));
  });

  it('comment regexes use the comment stack: a matching comment covers the next item and subtree', () => {
    const policy = new EncryptionPolicy({ kind: 'encrypted_comment_regex', value: 'sops:enc' });
    const doc = map([]);
    doc.items.push(comment(' sops:enc'), { kind: 'entry', key: 'db', value: map([['pw', str('x')]]) }, { kind: 'entry', key: 'open', value: str('y') });
    encryptTree([doc], key, policy, false);
    const v = valuesOf(doc);
    expect(v[0]).toBe('# sops:enc');
    expect(v[1]).toMatch(/^ENC\[/);
    expect(v[2]).toBe('y');
  });
});

import { describe, expect, it } from 'vitest';
import { mergeDocuments } from '../../src/git/merge-tree.js';
import { list, map, str, toPlain, type MapNode } from '../../src/tree.js';

const base = (): MapNode => map([['a', str('1')], ['b', str('2')], ['nested', map([['x', str('x')], ['y', str('y')]])], ['l', list([str('p')])]]);

describe('three-way merge of decrypted documents', () => {
  it('takes changes to different keys from both sides', () => {
    const ours = base();
    (ours.items[0] as any).value.value = 'ours-a';
    const theirs = base();
    (theirs.items[1] as any).value.value = 'theirs-b';
    ((theirs.items[2] as any).value.items[1] as any).value.value = 'theirs-y';
    expect(mergeDocuments(base(), ours, theirs)).toEqual([]);
    expect(toPlain(ours)).toEqual({ a: 'ours-a', b: 'theirs-b', nested: { x: 'x', y: 'theirs-y' }, l: ['p'] });
  });

  it('keeps additions and deletions from both sides', () => {
    const ours = base();
    ours.items.push({ kind: 'entry', key: 'added_ours', value: str('o') });
    const theirs = base();
    theirs.items = theirs.items.filter((i) => !(i.kind === 'entry' && i.key === 'b'));
    theirs.items.push({ kind: 'entry', key: 'added_theirs', value: str('t') });
    expect(mergeDocuments(base(), ours, theirs)).toEqual([]);
    expect(toPlain(ours)).toEqual({ a: '1', nested: { x: 'x', y: 'y' }, l: ['p'], added_ours: 'o', added_theirs: 't' });
  });

  it('reports a conflict when both sides change the same key differently, keeping ours', () => {
    const ours = base();
    (ours.items[0] as any).value.value = 'ours';
    const theirs = base();
    (theirs.items[0] as any).value.value = 'theirs';
    const conflicts = mergeDocuments(base(), ours, theirs);
    expect(conflicts.map((c) => c.path)).toEqual([['a']]);
    expect(toPlain(ours)).toMatchObject({ a: 'ours' });
  });

  it('treats the same change on both sides as no conflict, and lists as single values', () => {
    const ours = base();
    const theirs = base();
    (ours.items[0] as any).value.value = 'same';
    (theirs.items[0] as any).value.value = 'same';
    (ours.items[3] as any).value = list([str('p'), str('q')]);
    (theirs.items[3] as any).value = list([str('r')]);
    const conflicts = mergeDocuments(base(), ours, theirs);
    expect(conflicts.map((c) => c.path)).toEqual([['l']]);
  });

  it('modified on one side and deleted on the other is a conflict', () => {
    const ours = base();
    (ours.items[1] as any).value.value = 'changed';
    const theirs = base();
    theirs.items.splice(1, 1);
    expect(mergeDocuments(base(), ours, theirs).map((c) => c.path)).toEqual([['b']]);
  });
});

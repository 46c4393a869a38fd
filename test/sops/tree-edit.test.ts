import { describe, expect, it } from 'vitest';
import { getAtPath, sameValue, setAtPath, unsetAtPath } from '../../src/sops/tree-edit.js';
import { comment, list, map, scalar, str, toPlain } from '../../src/tree.js';

const doc = () => map([['a', map([['b', list([str('x'), str('y')])]])], ['c', str('z')]]);

describe('set and unset on trees', () => {
  it('replaces an existing scalar in place, keeping the node (and its layout origin)', () => {
    const d = doc();
    const before = getAtPath(d, ['c']);
    expect(setAtPath(d, ['c'], str('new'))).toBe(true);
    expect(getAtPath(d, ['c'])).toBe(before);
    expect(toPlain(d)).toEqual({ a: { b: ['x', 'y'] }, c: 'new' });
  });

  it('reports no change when the value is already there', () => {
    const d = doc();
    expect(setAtPath(d, ['a', 'b', 1], str('y'))).toBe(false);
    expect(setAtPath(d, ['c'], scalar('int', 1n))).toBe(true);
    expect(setAtPath(d, ['c'], scalar('int', 1n))).toBe(false);
  });

  it('creates missing keys at the end, appends past the end of a list, replaces scalars mid-path', () => {
    const d = doc();
    setAtPath(d, ['new', 'deep'], str('v'));
    setAtPath(d, ['a', 'b', 9], str('appended'));
    setAtPath(d, ['c', 'inner'], str('w'));
    setAtPath(d, ['l', 0, 'k'], str('in list'));
    expect(toPlain(d)).toEqual({ a: { b: ['x', 'y', 'appended'] }, c: { inner: 'w' }, new: { deep: 'v' }, l: [{ k: 'in list' }] });
  });

  it('list indices skip comments', () => {
    const d = map([['l', list([comment(' c'), str('first')])]]);
    setAtPath(d, ['l', 0], str('changed'));
    expect(toPlain(d)).toEqual({ l: ['changed'] });
  });

  it('unsets map keys and list elements, and says when nothing was there', () => {
    const d = doc();
    expect(unsetAtPath(d, ['a', 'b', 0])).toBe(true);
    expect(unsetAtPath(d, ['c'])).toBe(true);
    expect(unsetAtPath(d, ['c'])).toBe(false);
    expect(unsetAtPath(d, ['a', 'b', 5])).toBe(false);
    expect(unsetAtPath(d, ['nope', 'x'])).toBe(false);
    expect(toPlain(d)).toEqual({ a: { b: ['y'] } });
  });

  it('compares values by type and content', () => {
    expect(sameValue(scalar('int', 1n), scalar('float', 1))).toBe(false);
    expect(sameValue(map([['a', str('1')]]), map([['a', str('1')]]))).toBe(true);
    expect(sameValue(list([str('a')]), list([str('a'), str('b')]))).toBe(false);
  });
});

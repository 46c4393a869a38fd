import fc from 'fast-check';
import { exitCodeOfError } from '../../src/cli/exit-codes.js';
import { describe, expect, it } from 'vitest';
import { childEnvironment, EnvironmentError, mergeVariables, secretVariables } from '../../src/exec/env.js';
import { comment, list, map, scalar, str, type MapNode } from '../../src/tree.js';

const vars = (doc: MapNode, flatten = false): Record<string, string> => Object.fromEntries(secretVariables(doc, { flatten, file: 'f.yaml' }));

describe('secretVariables', () => {
  it('writes every scalar type as sops ValToString does, strings raw', () => {
    const doc = map([
      ['STR', str('line one\nline two')],
      ['INT', scalar('int', 5432n)],
      ['NEG', scalar('int', -9223372036854775808n)],
      ['FLOAT', scalar('float', 1.5)],
      ['WHOLE', scalar('float', 5)],
      ['HUGE', scalar('float', 1e21)],
      ['TINY', scalar('float', 0.00001)],
      ['YES', scalar('bool', true)],
      ['NO', scalar('bool', false)],
      ['WHEN', scalar('time', '2024-01-02T03:04:05+01:00')],
      ['NOTHING', scalar('null', null)],
      ['EMPTY', str('')],
      ['BYTES', scalar('str', new Uint8Array(Buffer.from('raw')))],
    ]);
    expect(vars(doc)).toEqual({
      STR: 'line one\nline two',
      INT: '5432',
      NEG: '-9223372036854775808',
      FLOAT: '1.5',
      WHOLE: '5.0',
      HUGE: '1E+21',
      TINY: '1E-05',
      YES: 'true',
      NO: 'false',
      WHEN: '2024-01-02T03:04:05+01:00',
      NOTHING: '',
      EMPTY: '',
      BYTES: 'raw',
    });
  });

  it('skips comments and keeps file order; a repeated key takes its last value', () => {
    const doc = map([['B', str('1')]]);
    doc.items.unshift(comment(' top'));
    doc.items.push({ kind: 'entry', key: 'A', value: str('2') }, comment(' mid'), { kind: 'entry', key: 'B', value: str('3') });
    const out = secretVariables(doc);
    expect([...out]).toEqual([['A', '2'], ['B', '3']]);
  });

  it('gives nothing for no document', () => {
    expect(secretVariables(undefined).size).toBe(0);
  });

  it.each([
    ['a map', map([['db', map([['user', str('x')]])]]), /key "db" holds a map/],
    ['a list', map([['hosts', list([str('a')])]]), /key "hosts" holds a list/],
    ['a key with =', map([['A=B', str('x')]]), /key "A=B" contains '='/],
    ['a key with NUL', map([['A\0', str('x')]]), /NUL/],
    ['an empty key', map([['', str('x')]]), /empty key/],
  ])('refuses %s with exit 1 naming the key and the file', (_what, doc, message) => {
    let error: unknown;
    try {
      secretVariables(doc, { file: 'f.yaml' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EnvironmentError);
    expect(exitCodeOfError(error as EnvironmentError)).toBe(1);
    expect((error as EnvironmentError).file).toBe('f.yaml');
    expect((error as Error).message).toMatch(message);
  });

  it('refuses a value with a NUL byte without quoting the value', () => {
    const secret = 'pa\0ss-SECRET';
    expect(() => secretVariables(map([['PW', str(secret)]]))).toThrow(/key "PW"/);
    try {
      secretVariables(map([['PW', str(secret)]]));
    } catch (e) {
      expect((e as Error).message).not.toContain('SECRET');
    }
  });

  it('--flatten joins paths with _ as written, lists by index, skipping comments', () => {
    const hosts = list([str('a'), str('b')]);
    hosts.items.splice(1, 0, comment(' between'));
    const doc = map([
      ['db', map([['user', str('x')], ['port', scalar('int', 5n)], ['nested', map([['deep', scalar('bool', true)]])]])],
      ['hosts', hosts],
      ['top', str('t')],
      ['empty', map()],
    ]);
    expect(vars(doc, true)).toEqual({ db_user: 'x', db_port: '5', db_nested_deep: 'true', hosts_0: 'a', hosts_1: 'b', top: 't' });
  });

  it('--flatten refuses two values landing on one variable', () => {
    expect(() => vars(map([['a_b', str('1')], ['a', map([['b', str('2')]])]]), true)).toThrow(/"a_b"/);
    expect(() => vars(map([['a', map([['b_c', str('1')], ['b', map([['c', str('2')]])]])]]), true)).toThrow(/"a_b_c"/);
  });

  it('--flatten still refuses bad names inside nested maps', () => {
    expect(() => vars(map([['a', map([['x=y', str('1')]])]]), true)).toThrow(/"a_x=y" contains '='/);
  });
});

describe('mergeVariables', () => {
  it('lets a later file win and keeps the others', () => {
    const base = new Map([['A', 'base'], ['B', 'base']]);
    const prod = new Map([['B', 'prod'], ['C', 'prod']]);
    expect(Object.fromEntries(mergeVariables([base, prod]))).toEqual({ A: 'base', B: 'prod', C: 'prod' });
    expect(Object.fromEntries(mergeVariables([prod, base]))).toEqual({ A: 'base', B: 'base', C: 'prod' });
  });
});

describe('childEnvironment', () => {
  const parent = { PATH: '/bin', SHARED: 'parent', HOME: '/root', UNSET: undefined };
  const secrets = new Map([['SHARED', 'secret'], ['ONLY', 'secret']]);

  it('inherits and lets the secrets win by default', () => {
    expect({ ...childEnvironment({ parent, secrets }) }).toEqual({ PATH: '/bin', SHARED: 'secret', HOME: '/root', ONLY: 'secret' });
  });

  it('--no-override: inherited variables win', () => {
    expect({ ...childEnvironment({ parent, secrets, override: false }) }).toEqual({ PATH: '/bin', SHARED: 'parent', HOME: '/root', ONLY: 'secret' });
  });

  it('--pristine: the secrets and nothing else', () => {
    expect({ ...childEnvironment({ parent, secrets, pristine: true }) }).toEqual({ SHARED: 'secret', ONLY: 'secret' });
    expect({ ...childEnvironment({ parent, secrets, pristine: true, override: false }) }).toEqual({ SHARED: 'secret', ONLY: 'secret' });
  });

  it('--user variables sit over the inherited ones and under the secrets', () => {
    const env = childEnvironment({ parent, secrets: new Map([['USER', 'fromfile']]), user: { HOME: '/home/u', USER: 'u', LOGNAME: 'u' } });
    expect(env['HOME']).toBe('/home/u');
    expect(env['LOGNAME']).toBe('u');
    expect(env['USER']).toBe('fromfile');
    expect({ ...childEnvironment({ parent: {}, secrets: new Map(), pristine: true, user: { HOME: '/h' } }) }).toEqual({ HOME: '/h' });
  });

  it('treats __proto__ as an ordinary variable name', () => {
    const env = childEnvironment({ parent: {}, secrets: new Map([['__proto__', 'x']]) });
    expect(Object.keys(env)).toEqual(['__proto__']);
    expect(env['__proto__']).toBe('x');
  });

  it('property: every secret is present with its value unless an inherited one wins', () => {
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/);
    fc.assert(
      fc.property(fc.dictionary(name, fc.string()), fc.dictionary(name, fc.string()), fc.boolean(), fc.boolean(), (inherited, fileVars, override, pristine) => {
        const env = childEnvironment({ parent: inherited, secrets: new Map(Object.entries(fileVars)), override, pristine });
        for (const [k, v] of Object.entries(fileVars)) {
          const inheritedWins = !override && !pristine && Object.prototype.hasOwnProperty.call(inherited, k);
          expect(env[k]).toBe(inheritedWins ? inherited[k] : v);
        }
        for (const k of Object.keys(env)) expect(Object.prototype.hasOwnProperty.call(fileVars, k) || (!pristine && Object.prototype.hasOwnProperty.call(inherited, k))).toBe(true);
      }),
    );
  });

  it('property: a flat document of strings becomes exactly those variables', () => {
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/);
    const value = fc.string().filter((s) => !s.includes('\0'));
    fc.assert(
      fc.property(fc.dictionary(name, value), (record) => {
        const doc = map(Object.entries(record).map(([k, v]) => [k, str(v)]));
        expect(Object.fromEntries(secretVariables(doc))).toEqual(record);
      }),
    );
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InputError, MalformedFileError } from '../../src/errors.js';
import { jsonFormat } from '../../src/formats/json.js';
import { cloneNode, getEntry, type MapNode, type Node, type ParsedFile, type Scalar } from '../../src/tree.js';
import { HAS_INTEROP, INTEROP as INTEROP_DIR } from '../support/interop.js';

const INTEROP = `${INTEROP_DIR}/`;

function parse(text: string | Uint8Array): ParsedFile {
  return jsonFormat.parse(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
}

/** Trees without their layout origins, for comparing with plain literals. */
function doc(text: string): MapNode {
  return cloneNode(parse(text).documents[0]!);
}

function valueOf(text: string): Scalar {
  const node = getEntry(doc(`{"v": ${text}}`), 'v')!.value;
  if (node.kind !== 'scalar') throw new Error('not a scalar');
  return node;
}

function parseError(text: string | Uint8Array): InputError {
  try {
    parse(text);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('parse did not fail');
}

describe('JSON parse: structure', () => {
  it('keeps member order and duplicate keys', () => {
    const d = doc('{"b": 1, "a": 2, "b": 3}');
    expect(d.items.map((i) => (i.kind === 'entry' ? i.key : '#'))).toEqual(['b', 'a', 'b']);
    expect(d.items.map((i) => (i.kind === 'entry' && i.value.kind === 'scalar' ? i.value.value : undefined))).toEqual([1n, 2n, 3n]);
  });

  it('reads nested maps and lists, empty ones included', () => {
    const d = doc('{"m": {"x": [1, {"y": []}, {}]}, "e": {}}');
    expect(d).toEqual({
      kind: 'map',
      items: [
        { kind: 'entry', key: 'm', value: { kind: 'map', items: [{ kind: 'entry', key: 'x', value: { kind: 'list', items: [
          { kind: 'scalar', type: 'int', value: 1n },
          { kind: 'map', items: [{ kind: 'entry', key: 'y', value: { kind: 'list', items: [] } }] },
          { kind: 'map', items: [] },
        ] } }] } },
        { kind: 'entry', key: 'e', value: { kind: 'map', items: [] } },
      ],
    });
  });

  it('reads true, false and null', () => {
    expect(valueOf('true')).toMatchObject({ type: 'bool', value: true });
    expect(valueOf('false')).toMatchObject({ type: 'bool', value: false });
    expect(valueOf('null')).toMatchObject({ type: 'null', value: null });
  });

  it('accepts JSON whitespace everywhere, after the closing brace too', () => {
    expect(doc(' \t\r\n{ \n"a"\t:\r\n1 \n}\n \t\r\n')).toEqual({ kind: 'map', items: [{ kind: 'entry', key: 'a', value: { kind: 'scalar', type: 'int', value: 1n } }] });
  });

  it.each(['{"a":1}\n{"b":2}\n', '{"a":1} x', '{"a":1}\n// comment\n', '{"a":1}}', '{"a":1}\u0000'])('refuses text after the top-level object: %j', (text) => {
    expect(() => doc(text)).toThrow(/unexpected text after the top-level object/);
  });

  it('accepts a leading byte order mark', () => {
    expect(doc('\uFEFF{"a": "b"}').items).toHaveLength(1);
  });

  it('allows 1000 levels of nesting and refuses 10,000 cleanly', () => {
    const ok = '{"a":' + '['.repeat(999) + ']'.repeat(999) + '}';
    expect(doc(ok).items).toHaveLength(1);
    const deep = '{"a":' + '['.repeat(10_000) + ']'.repeat(10_000) + '}';
    expect(parseError(deep).message).toMatch(/^invalid JSON at line 1, column 1005: nesting deeper than 1000 levels$/);
  });
});

describe('JSON parse: numbers', () => {
  it.each([
    ['0', 'int', 0n],
    ['-0', 'int', 0n],
    ['42', 'int', 42n],
    ['9223372036854775807', 'int', 9223372036854775807n],
    ['-9223372036854775808', 'int', -9223372036854775808n],
    ['9007199254740993', 'int', 9007199254740993n],
    ['9223372036854775808', 'float', 9223372036854775808],
    ['-9223372036854775809', 'float', -9223372036854775809],
    ['1.0', 'float', 1],
    ['1e3', 'float', 1000],
    ['1E+3', 'float', 1000],
    ['-2.5e-3', 'float', -0.0025],
    ['0.1', 'float', 0.1],
  ] as const)('%s is %s', (text, type, value) => {
    expect(valueOf(text)).toEqual({ kind: 'scalar', type, value });
  });

  it('keeps 64-bit integers exact', () => {
    expect(valueOf('9223372036854775806').value).toBe(9223372036854775806n);
  });

  it.each(['01', '1.', '.5', '+1', '-', '1e', '1e+', '0x10', 'NaN', 'Infinity', '-Infinity'])('refuses %s', (text) => {
    expect(parseError(`{"v": ${text}}`).message).toMatch(/^invalid JSON at line 1, column \d+: /);
  });

  it('refuses numbers beyond float64 range', () => {
    expect(parseError('{"v": 1e400}').message).toBe('invalid JSON at line 1, column 7: number out of range');
  });
});

describe('JSON parse: strings', () => {
  it.each([
    ['"plain"', 'plain'],
    ['"\\"\\\\\\/\\b\\f\\n\\r\\t"', '"\\/\b\f\n\r\t'],
    ['"\\u0041\\u00e9\\u20AC"', 'Aé€'],
    ['"\\ud83d\\ude00"', '😀'],
    ['"\\uD834\\uDD1E"', '𝄞'],
    ['"\\ud800"', '\ufffd'],
    ['"\\udc00x"', '\ufffdx'],
    ['"\\ud800\\u0041"', '\ufffdA'],
    ['"\\ud800\\ud800\\udc00"', '\ufffd𐀀'],
    ['"raw ünïcödé ✓ 😀"', 'raw ünïcödé ✓ 😀'],
    ['""', ''],
  ])('%s', (text, value) => {
    expect(valueOf(text)).toEqual({ kind: 'scalar', type: 'str', value });
  });

  it('decodes keys like values', () => {
    expect(doc('{"k\\u00e9\\n": 1}').items[0]).toMatchObject({ key: 'ké\n' });
  });

  it('turns invalid UTF-8 into U+FFFD', () => {
    const bytes = Buffer.concat([Buffer.from('{"v": "a'), Buffer.from([0xff, 0xc3, 0x28]), Buffer.from('b", "w": 1}')]);
    const d = cloneNode(parse(bytes).documents[0]!);
    expect(getEntry(d, 'v')!.value).toEqual({ kind: 'scalar', type: 'str', value: 'a\ufffd\ufffd(b' });
    expect(getEntry(d, 'w')!.value).toMatchObject({ value: 1n });
  });
});

describe('JSON parse: errors', () => {
  const SECRET = 'hunter2-s3cr3t';
  it.each([
    ['', 1, 1, /unexpected end of input/],
    ['   \n  ', 2, 3, /unexpected end of input/],
    [`["${SECRET}"]`, 1, 1, /the top level must be an object/],
    [`"${SECRET}"`, 1, 1, /the top level must be an object/],
    ['42', 1, 1, /the top level must be an object/],
    [`{"a": "${SECRET}"`, 1, 23, /unexpected end of input/],
    [`{"a": "${SECRET}`, 1, 7, /unterminated string/],
    [`{"a": "${SECRET}" "b": 1}`, 1, 24, /expected ',' or '}'/],
    [`{\n  "a": "${SECRET}",\n}`, 3, 1, /expected a string key/],
    [`{"a" "${SECRET}"}`, 1, 6, /expected ':'/],
    [`{"a": ${SECRET}}`, 1, 7, /unexpected character/],
    [`{"a": ["${SECRET}",]}`, 1, 25, /unexpected character/],
    [`{"a": ["${SECRET}" 1]}`, 1, 25, /expected ',' or '\]'/],
    [`{"a": "${SECRET}\\x"}`, 1, 22, /invalid escape in string/],
    [`{"a": "${SECRET}\\u12G4"}`, 1, 22, /invalid \\u escape in string/],
    [`{"a": "${SECRET}\ttab"}`, 1, 22, /control character in string/],
    [`{\n\t"a": "${SECRET}\n"}`, 2, 22, /control character in string/],
    [`{${SECRET}: 1}`, 1, 2, /expected a string key/],
    [`{"a": tru}`, 1, 7, /unexpected character/],
    [`{"a": nul`, 1, 7, /unexpected character/],
  ])('%j fails at %i:%i without echoing the text', (text, line, column, reason) => {
    const err = parseError(text);
    expect(err.message).toMatch(new RegExp(`^invalid JSON at line ${line}, column ${column}: `));
    expect(err.message).toMatch(reason);
    expect(err.message).not.toContain(SECRET);
    expect(err.message).not.toContain('hunter');
    expect(err.message).not.toMatch(/\n/);
  });

  it('names the file when given one', () => {
    try {
      jsonFormat.parse(Buffer.from('{'), { file: 'x.json' });
      expect.unreachable();
    } catch (err) {
      expect((err as InputError).file).toBe('x.json');
    }
  });
});

describe('JSON parse: sops metadata', () => {
  it('moves the top-level sops object to metadata, keeping its typed scalars', () => {
    const file = parse('{"a": 1, "sops": {"shamir_threshold": 2, "mac_only_encrypted": true, "kms": null, "age": [{"enc": "x\\n"}]}, "b": 2}');
    expect(file.documents[0]!.items.map((i) => (i.kind === 'entry' ? i.key : '#'))).toEqual(['a', 'b']);
    expect(cloneNode(file.metadata!)).toEqual({ kind: 'map', items: [
      { kind: 'entry', key: 'shamir_threshold', value: { kind: 'scalar', type: 'int', value: 2n } },
      { kind: 'entry', key: 'mac_only_encrypted', value: { kind: 'scalar', type: 'bool', value: true } },
      { kind: 'entry', key: 'kms', value: { kind: 'scalar', type: 'null', value: null } },
      { kind: 'entry', key: 'age', value: { kind: 'list', items: [{ kind: 'map', items: [{ kind: 'entry', key: 'enc', value: { kind: 'scalar', type: 'str', value: 'x\n' } }] }] } },
    ] });
  });

  it('only looks at the top level', () => {
    const file = parse('{"a": {"sops": {"mac": "x"}}}');
    expect(file.metadata).toBeUndefined();
    expect(getEntry(file.documents[0]!, 'a')!.value).toMatchObject({ kind: 'map' });
  });

  it('refuses a sops member that is not an object', () => {
    expect(() => parse('{"sops": "hunter2"}')).toThrow(MalformedFileError);
    expect(() => parse('{"sops": "hunter2"}')).toThrow(/^the top-level `sops` key must hold an object$/);
  });

  it('turns encrypted list comments back into comment items', () => {
    const enc = 'ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC==,type:comment]';
    const d = doc(`{"l": ["${enc}", "ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC==,type:str]", "x"], "m": "${enc}"}`);
    const list = getEntry(d, 'l')!.value;
    expect(list.kind === 'list' && list.items.map((i) => i.kind)).toEqual(['comment', 'scalar', 'scalar']);
    expect(list.kind === 'list' && cloneNode(list.items[0]!)).toEqual({ kind: 'comment', text: enc });
    expect(getEntry(d, 'm')!.value).toMatchObject({ kind: 'scalar', value: enc });
  });
});

describe('JSON parse: files written by sops', () => {
  const enc = /^ENC\[AES256_GCM,data:[^,]*,iv:[^,]+,tag:[^,]+,type:(str|int|float|bool)\]$/;
  const keysOf = (m: MapNode | undefined): string[] => (m ? m.items.map((i) => (i.kind === 'entry' ? i.key : '#')) : []);
  const leaves = (n: Node): Scalar[] => (n.kind === 'scalar' ? [n] : n.items.flatMap((i) => (i.kind === 'entry' ? leaves(i.value) : i.kind === 'comment' ? [] : leaves(i))));

  it.skipIf(!HAS_INTEROP)('sops-repo/example.json (3.5.0, old metadata order, "kms": null)', () => {
    const file = jsonFormat.parse(readFileSync(INTEROP + 'sops-repo/example.json'));
    expect(keysOf(file.documents[0])).toEqual(['firstName', 'lastName', 'age', 'address', 'phoneNumbers', 'anEmptyValue']);
    expect(keysOf(file.metadata)).toEqual(['kms', 'gcp_kms', 'azure_kv', 'lastmodified', 'mac', 'pgp', 'unencrypted_suffix', 'version']);
    expect(cloneNode(getEntry(file.metadata!, 'kms')!.value)).toEqual({ kind: 'scalar', type: 'null', value: null });
    const pgp = getEntry(file.metadata!, 'pgp')!.value;
    expect(pgp.kind === 'list' && pgp.items.length).toBe(2);
    for (const leaf of leaves(file.documents[0]!)) if (leaf.value !== '') expect(leaf.value).toMatch(enc);
    expect(cloneNode(getEntry(file.documents[0]!, 'anEmptyValue')!.value)).toEqual({ kind: 'scalar', type: 'str', value: '' });
  });

  it.skipIf(!HAS_INTEROP)('sops-repo/format.enc.json (3.13.1)', () => {
    const file = jsonFormat.parse(readFileSync(INTEROP + 'sops-repo/format.enc.json'));
    expect(keysOf(file.documents[0])).toEqual(['foo']);
    expect(getEntry(file.documents[0]!, 'foo')!.value).toMatchObject({ type: 'str', value: expect.stringMatching(enc) });
    expect(keysOf(file.metadata)).toEqual(['lastmodified', 'mac', 'pgp', 'unencrypted_suffix', 'version']);
    expect(getEntry(file.metadata!, 'version')!.value).toMatchObject({ value: '3.13.1' });
  });

  it.skipIf(!HAS_INTEROP)('sops-age-repo/secret.enc.json (3.8.1, age)', () => {
    const file = jsonFormat.parse(readFileSync(INTEROP + 'sops-age-repo/secret.enc.json'));
    const plain = JSON.parse(readFileSync(INTEROP + 'sops-age-repo/secret.json', 'utf8')) as Record<string, unknown>;
    expect(keysOf(file.documents[0])).toEqual(Object.keys(plain));
    const types = leaves(file.documents[0]!).map((l) => /type:(\w+)\]$/.exec(String(l.value))?.[1]);
    // sops 3.8 decoded every JSON number as a float64, so the int 7 was stored as type:float.
    expect(types).toEqual(['str', 'str', 'float', 'float', 'bool', 'str', 'str', 'str', 'str', 'str']);
    const age = getEntry(file.metadata!, 'age')!.value;
    expect(age.kind === 'list' && age.items.length).toBe(3);
    expect(age.kind === 'list' && age.items[0]!.kind === 'map' && getEntry(age.items[0] as MapNode, 'enc')!.value).toMatchObject({ value: expect.stringMatching(/^-----BEGIN AGE ENCRYPTED FILE-----\n[\s\S]*\n$/) });
  });
});

/** Our tree, compared with what JSON.parse gives (last duplicate wins, ints as doubles). */
function normalizeOurs(node: Node): unknown {
  if (node.kind === 'scalar') return typeof node.value === 'bigint' ? Number(node.value) : node.value;
  if (node.kind === 'list') return node.items.map((i) => normalizeOurs(i as Node));
  const out = new Map<string, unknown>();
  for (const item of node.items) if (item.kind === 'entry') out.set(item.key, normalizeOurs(item.value));
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function normalizeTheirs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalizeTheirs);
  if (value !== null && typeof value === 'object') {
    return Object.keys(value).sort().map((k) => [k, normalizeTheirs((value as Record<string, unknown>)[k])]);
  }
  return value;
}

describe('JSON parse: agrees with JSON.parse', () => {
  it('on random JSON texts', () => {
    fc.assert(fc.property(fc.json(), fc.constantFrom(undefined, 2, '\t'), (text, space) => {
      const pretty = space === undefined ? text : JSON.stringify(JSON.parse(text), null, space);
      const wrapped = `{"v": ${pretty}}`;
      const ours = getEntry(doc(wrapped), 'v')!.value;
      expect(normalizeOurs(ours)).toEqual(normalizeTheirs(JSON.parse(pretty)));
    }), { numRuns: 300 });
  });

  it('on random objects with unicode keys and values', () => {
    fc.assert(fc.property(fc.dictionary(fc.string({ unit: 'grapheme' }), fc.jsonValue()), (value) => {
      const text = JSON.stringify(value);
      expect(normalizeOurs(doc(text))).toEqual(normalizeTheirs(JSON.parse(text)));
    }), { numRuns: 200 });
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EmitError } from '../../src/errors.js';
import { formatJsonValue, goJsonString, jsonFormat } from '../../src/formats/json.js';
import { cloneNode, comment, list, map, scalar, str, type Comment, type Entry, type MapNode, type Node, type ParsedFile } from '../../src/tree.js';

function emit(file: ParsedFile, indent?: number): string {
  return Buffer.from(jsonFormat.emit(file, indent === undefined ? undefined : { indent })).toString('utf8');
}

function fresh(doc: MapNode, metadata?: MapNode): ParsedFile {
  return metadata ? { format: 'json', documents: [doc], metadata } : { format: 'json', documents: [doc] };
}

const int = (v: bigint): Node => scalar('int', v);
const float = (v: number): Node => scalar('float', v);

describe('Go string escaping', () => {
  it.each([
    ['plain', '"plain"'],
    ['"', '"\\""'],
    ['\\', '"\\\\"'],
    ['\n\r\t\b\f', '"\\n\\r\\t\\b\\f"'],
    ['\u0000\u0001\u001f\u000b', '"\\u0000\\u0001\\u001f\\u000b"'],
    ['<a href="x">&amp;</a>', '"\\u003ca href=\\"x\\"\\u003e\\u0026amp;\\u003c/a\\u003e"'],
    ['\u2028\u2029', '"\\u2028\\u2029"'],
    ['/', '"/"'],
    ['\u007f', '"\u007f"'],
    ['é€😀 ünïcödé', '"é€😀 ünïcödé"'],
    ['\u00a0\u0085\ufeff', '"\u00a0\u0085\ufeff"'],
    ['lone \ud800 high', '"lone \\ufffd high"'],
    ['lone \udc00 low', '"lone \\ufffd low"'],
    ['end \ud83d', '"end \\ufffd"'],
    ['', '""'],
  ])('%j -> %s', (input, expected) => {
    expect(goJsonString(input)).toBe(expected);
  });

  it('agrees with JSON.stringify apart from <, >, &, U+2028/9 and lone surrogates', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
      const ours = goJsonString(s);
      const theirs = JSON.stringify(s)
        .replace(/\\u([0-9a-f]{4})/g, (m, hex: string) => (parseInt(hex, 16) >= 0xd800 && parseInt(hex, 16) <= 0xdfff ? '\\ufffd' : m))
        .replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
      expect(ours).toBe(theirs);
    }));
  });
});

describe('canonical JSON output', () => {
  const sample = map([
    ['name', str('x')],
    ['n', int(5n)],
    ['nested', map([['list', list([int(1n), str('two'), map([]), list([])])], ['empty', map([])]])],
    ['t', scalar('bool', true)],
    ['nothing', scalar('null', null)],
  ]);

  it('uses a tab by default, ": " after keys, compact empty containers and one trailing newline', () => {
    expect(emit(fresh(sample))).toBe(
      '{\n\t"name": "x",\n\t"n": 5,\n\t"nested": {\n\t\t"list": [\n\t\t\t1,\n\t\t\t"two",\n\t\t\t{},\n\t\t\t[]\n\t\t],\n\t\t"empty": {}\n\t},\n\t"t": true,\n\t"nothing": null\n}\n',
    );
    expect(emit(fresh(sample), -1)).toBe(emit(fresh(sample)));
  });

  it('uses N spaces for indent N, and newlines without indentation for 0', () => {
    expect(emit(fresh(map([['a', map([['b', int(1n)]])]])), 2)).toBe('{\n  "a": {\n    "b": 1\n  }\n}\n');
    expect(emit(fresh(map([['a', map([['b', int(1n)]])]])), 4)).toBe('{\n    "a": {\n        "b": 1\n    }\n}\n');
    expect(emit(fresh(map([['a', list([int(1n)])]])), 0)).toBe('{\n"a": [\n1\n]\n}\n');
  });

  it('refuses indents below -1', () => {
    expect(() => emit(fresh(sample), -2)).toThrow(EmitError);
    expect(() => formatJsonValue(sample, -5)).toThrow(/invalid JSON indent -5/);
  });

  it('writes an empty document as {}', () => {
    expect(emit(fresh(map([])))).toBe('{}\n');
    expect(emit({ format: 'json', documents: [] })).toBe('{}\n');
  });

  it('puts sops last', () => {
    const meta = map([['mac', str('ENC[x]')], ['shamir_threshold', int(2n)], ['mac_only_encrypted', scalar('bool', true)], ['age', list([map([['enc', str('a\nb\n')]])])]]);
    expect(emit(fresh(map([['z', str('v')]]), meta))).toBe(
      '{\n\t"z": "v",\n\t"sops": {\n\t\t"mac": "ENC[x]",\n\t\t"shamir_threshold": 2,\n\t\t"mac_only_encrypted": true,\n\t\t"age": [\n\t\t\t{\n\t\t\t\t"enc": "a\\nb\\n"\n\t\t\t}\n\t\t]\n\t}\n}\n',
    );
  });

  it.each([
    [9223372036854775807n, '9223372036854775807'],
    [-9223372036854775808n, '-9223372036854775808'],
    [0n, '0'],
  ])('writes int %s exactly', (v, text) => {
    expect(formatJsonValue(int(v))).toBe(text);
  });

  it.each([
    [1.5, '1.5'],
    [1, '1'],
    [0.1, '0.1'],
    [-0, '-0'],
    [1e21, '1e+21'],
    [1e20, '100000000000000000000'],
    [1e-7, '1e-7'],
    [0.000001, '0.000001'],
    [1234568000, '1234568000'],
    [5e-324, '5e-324'],
  ])('writes float %s as %s', (v, text) => {
    expect(formatJsonValue(float(v))).toBe(text);
  });

  it.each([NaN, Infinity, -Infinity])('refuses float %s', (v) => {
    expect(() => emit(fresh(map([['f', float(v)]])))).toThrow(EmitError);
  });

  it('writes time as a string, str bytes as UTF-8 text and bytes as base64', () => {
    expect(formatJsonValue(scalar('time', '2024-01-01T00:00:00Z'))).toBe('"2024-01-01T00:00:00Z"');
    expect(formatJsonValue(scalar('str', new Uint8Array(Buffer.from('héllo <3', 'utf8'))))).toBe('"héllo \\u003c3"');
    expect(formatJsonValue(scalar('bytes', new Uint8Array([0, 1, 254, 255])))).toBe('"AAH+/w=="');
    expect(formatJsonValue(scalar('bool', false))).toBe('false');
  });

  it('drops comments except encrypted list comments, which are written as strings', () => {
    const enc = 'ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC==,type:comment]';
    const withComment = (items: (Node | Comment)[]): Node => ({ kind: 'list', items });
    const doc: MapNode = { kind: 'map', items: [comment(' top'), { kind: 'entry', key: 'l', value: withComment([comment(' plain'), comment(enc), str('x')]) } as Entry, comment(' end')] };
    const out = emit(fresh(doc));
    expect(out).toBe(`{\n\t"l": [\n\t\t"${enc}",\n\t\t"x"\n\t]\n}\n`);
    const back = cloneNode(jsonFormat.parse(Buffer.from(out)).documents[0]!);
    const l = back.items[0]!;
    expect(l.kind === 'entry' && l.value).toEqual({ kind: 'list', items: [{ kind: 'comment', text: enc }, { kind: 'scalar', type: 'str', value: 'x' }] });
    expect(emit(fresh(map([['l', withComment([comment(' only')])]])))).toBe('{\n\t"l": []\n}\n');
  });

  it('writes the canonical layout for a tree read from another format', () => {
    const file: ParsedFile = { format: 'yaml', documents: [map([['a', int(1n)]])], layout: { anything: true } };
    expect(emit(file, 2)).toBe('{\n  "a": 1\n}\n');
  });

  it('refuses several documents', () => {
    expect(() => emit({ format: 'yaml', documents: [map([]), map([])] })).toThrow(EmitError);
  });

  it('formatJsonValue writes a lone value without a trailing newline', () => {
    expect(formatJsonValue(list([str('x'), int(7n)]), 2)).toBe('[\n  "x",\n  7\n]');
    expect(formatJsonValue(str('<'))).toBe('"\\u003c"');
  });
});

// Random trees in the shapes a JSON file can hold; floats that print as integers read back as ints.
const scalarArb: fc.Arbitrary<Node> = fc.oneof(
  fc.string({ unit: 'binary-ascii' }).map((s) => str(s)),
  fc.string({ unit: 'grapheme' }).map((s) => str(s)),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => int(v)),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => float(v)),
  fc.boolean().map((v) => scalar('bool', v)),
  fc.constant(scalar('null', null)),
);

const { tree } = fc.letrec<{ tree: MapNode; node: Node }>((tie) => ({
  tree: fc.array(fc.tuple(fc.string({ unit: 'grapheme', maxLength: 8 }), tie('node')), { maxLength: 5 }).map((entries) => map(entries)),
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalarArb, tie('tree'), fc.array(tie('node'), { maxLength: 4 }).map((items) => list(items))),
}));

function expectedAfterRoundTrip(node: Node): Node {
  if (node.kind === 'map') return map(node.items.map((i) => [(i as Entry).key, expectedAfterRoundTrip((i as Entry).value)]));
  if (node.kind === 'list') return list(node.items.map((i) => expectedAfterRoundTrip(i as Node)));
  if (node.type === 'float') {
    const text = formatJsonValue(node);
    if (/^-?\d+$/.test(text)) {
      const v = BigInt(text);
      if (v >= -(2n ** 63n) && v < 2n ** 63n) return int(v);
    }
  }
  return node;
}

describe('canonical output round trip', () => {
  it('parse(emit(tree)) gives the tree back, for every indent', () => {
    fc.assert(fc.property(tree, fc.constantFrom(undefined, -1, 0, 1, 2, 4), (doc, indent) => {
      const text = emit(fresh(doc), indent);
      expect(text.endsWith('\n') && !text.endsWith('\n\n')).toBe(true);
      const back = jsonFormat.parse(Buffer.from(text, 'utf8'));
      expect(cloneNode(back.documents[0]!)).toEqual(expectedAfterRoundTrip(doc));
      expect(back.metadata).toBeUndefined();
    }), { numRuns: 300 });
  });

  it('metadata comes back as metadata', () => {
    fc.assert(fc.property(tree, tree, (doc, meta) => {
      const back = jsonFormat.parse(jsonFormat.emit(fresh(doc, meta)));
      expect(cloneNode(back.metadata!)).toEqual(expectedAfterRoundTrip(meta));
    }), { numRuns: 100 });
  });

  it('JSON.parse reads what we write', () => {
    fc.assert(fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (value) => {
      const text = JSON.stringify(value);
      const doc = jsonFormat.parse(Buffer.from(text)).documents[0]!;
      // What JSON.stringify wrote is the reference: it writes -0 as 0, as Go does.
      expect(JSON.parse(emit(fresh(doc)))).toEqual(JSON.parse(text));
    }), { numRuns: 200 });
  });
});

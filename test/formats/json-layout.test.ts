import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { jsonFormat } from '../../src/formats/json.js';
import { cloneNode, getEntry, list, map, str, type Comment, type MapNode, type Node, type ParsedFile, type Scalar, type ScalarType } from '../../src/tree.js';
import { decryptText, encryptText, throwawayAgeKey } from '../support/pipeline.js';
import { HAS_INTEROP, INTEROP as INTEROP_DIR } from '../support/interop.js';

const INTEROP = `${INTEROP_DIR}/`;

const parse = (text: string | Uint8Array): ParsedFile => jsonFormat.parse(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
const emit = (file: ParsedFile, indent?: number): string => Buffer.from(jsonFormat.emit(file, indent === undefined ? undefined : { indent })).toString('utf8');

function scalarsOf(node: Node | Comment, out: (Scalar | Comment)[] = []): (Scalar | Comment)[] {
  if (node.kind === 'scalar' || node.kind === 'comment') out.push(node);
  else for (const item of node.items) scalarsOf(item.kind === 'entry' ? item.value : item, out);
  return out;
}

// Stand-ins for the document layer: values become ENC strings carrying the
// typed value, and come back from them, mutating the same nodes.
const ENC = /^ENC\[AES256_GCM,data:([^,]*),iv:AAAA,tag:BBBB==,type:(\w+)\]$/;

function sealValue(type: string, payload: string): string {
  return `ENC[AES256_GCM,data:${Buffer.from(payload, 'utf8').toString('base64')},iv:AAAA,tag:BBBB==,type:${type}]`;
}

function metadata(version = '3.13.2'): MapNode {
  return map([
    ['age', list([map([['enc', str('-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n')], ['recipient', str('age1xyz')]])])],
    ['lastmodified', str('2026-01-02T03:04:05Z')],
    ['mac', str(sealValue('str', 'mac'))],
    ['version', str(version)],
  ]);
}

function simulateEncrypt(file: ParsedFile, version?: string): void {
  for (const leaf of file.documents.flatMap((d) => scalarsOf(d))) {
    if (leaf.kind === 'comment') {
      leaf.text = sealValue('comment', leaf.text);
      continue;
    }
    const repr = typeof leaf.value === 'bigint' ? leaf.value.toString() : JSON.stringify(leaf.value);
    leaf.value = sealValue(leaf.type, repr);
    leaf.type = 'str';
  }
  file.metadata = metadata(version);
}

function simulateDecrypt(file: ParsedFile): void {
  for (const leaf of file.documents.flatMap((d) => scalarsOf(d))) {
    const m = ENC.exec(leaf.kind === 'comment' ? leaf.text : String(leaf.value));
    if (!m) throw new Error('not sealed');
    const payload = Buffer.from(m[1]!, 'base64').toString('utf8');
    if (leaf.kind === 'comment') {
      leaf.text = payload;
      continue;
    }
    leaf.type = m[2] as ScalarType;
    leaf.value = m[2] === 'int' ? BigInt(payload) : JSON.parse(payload);
  }
  file.metadata = undefined;
}

function encryptedText(plain: string, version?: string): string {
  const file = parse(plain);
  simulateEncrypt(file, version);
  return emit(file);
}

function decryptedText(encrypted: string): string {
  const file = parse(encrypted);
  simulateDecrypt(file);
  return emit(file);
}

/** Files whose values are all written the way Go writes them, so they survive encryption byte for byte. */
const CANONICAL_VALUES: Record<string, string> = {
  'two spaces': '{\n  "db": {\n    "user": "admin",\n    "port": 5432,\n    "ratio": 0.5\n  },\n  "tags": [\n    "a",\n    true,\n    null\n  ],\n  "empty": {},\n  "none": []\n}\n',
  'four spaces': '{\n    "name": "x",\n    "nested": {\n        "deep": {\n            "v": -12\n        }\n    }\n}\n',
  tab: '{\n\t"foo": "bar",\n\t"list": [\n\t\t{\n\t\t\t"k": "v"\n\t\t}\n\t]\n}\n',
  compact: '{"a":1,"b":{"c":[1,2,{"d":"e"}]},"f":"g"}',
  'one line with spaces': '{ "a": 1, "b": [ "x", "y" ] }\n',
  'CRLF': '{\r\n  "a": "b",\r\n  "c": {\r\n    "d": 1\r\n  }\r\n}\r\n',
  'no final newline': '{\n  "a": "b"\n}',
  'odd spacing and trailing blank lines': '\n\n  {\n      "a" :   "b" ,\n  "c":\n[ 1 ,2 ]   }  \n\n \t\n',
  'byte order mark': '\uFEFF{\n  "a": "b"\n}\n',
  'members at column 0': '{\n"a": "b",\n"c": 2\n}\n',
  'duplicate keys': '{\n  "a": 1,\n  "a": 2\n}\n',
  'unicode and escapes Go writes the same way': '{\n  "ü": "naïve ✓ 😀",\n  "q": "say \\"hi\\"\\n\\ttab \\\\ \\u003c\\u0026\\u003e \\u0001"\n}\n',
  'big numbers': '{\n  "max": 9223372036854775807,\n  "min": -9223372036854775808,\n  "beyond": 1e+21,\n  "small": 1e-7\n}\n',
  empty: '{}\n',
};

/** Files with values Go would write differently: kept as read, but re-rendered once a value changes. */
const OTHER_VALUES: Record<string, string> = {
  'float spellings': '{\n  "a": 1.0,\n  "b": 1E3,\n  "c": 2.50\n}\n',
  'escapes Go writes differently': '{\n  "a": "\\/ \\u0041 <b>",\n  "b": "\\u00e9"\n}\n',
  'empty with a line break': '{\n}\n',
};

describe('JSON layout: unchanged trees are written back byte for byte', () => {
  it.skipIf(!HAS_INTEROP).each(Object.entries({ ...CANONICAL_VALUES, ...OTHER_VALUES }))('%s', (_, text) => {
    expect(emit(parse(text))).toBe(text);
  });

  it.skipIf(!HAS_INTEROP).each(['sops-repo/example.json', 'sops-repo/format.enc.json', 'sops-age-repo/secret.enc.json'])('encrypted %s, metadata included', (name) => {
    const bytes = readFileSync(INTEROP + name);
    expect(Buffer.from(jsonFormat.emit(jsonFormat.parse(bytes))).equals(bytes)).toBe(true);
  });

  it('ignores the indent option while it keeps the layout', () => {
    const text = CANONICAL_VALUES['two spaces']!;
    expect(emit(parse(text), 4)).toBe(text);
  });

  it('writes invalid UTF-8 outside changed values back as U+FFFD', () => {
    const bytes = Buffer.concat([Buffer.from('{"a": "x'), Buffer.from([0xff]), Buffer.from('"}')]);
    expect(emit(parse(bytes))).toBe('{"a": "x\ufffd"}');
  });
});

describe('JSON layout: encryption adds a sops member, decryption removes it', () => {
  it.each(Object.entries(CANONICAL_VALUES))('%s survives encrypt + decrypt byte for byte', (_, text) => {
    const encrypted = encryptedText(text);
    expect(encrypted).not.toBe(text);
    expect(cloneNode(parse(encrypted).metadata!)).toEqual(metadata());
    expect(decryptedText(encrypted)).toBe(text);
  });

  it('an empty object with a line break inside comes back as {}', () => {
    expect(decryptedText(encryptedText('{\n}\n'))).toBe('{}\n');
    expect(decryptedText(encryptedText('{ \t }'))).toBe('{}');
  });

  it('writes the sops member last, in the file\'s indentation, nested levels one step deeper', () => {
    const encrypted = encryptedText('{\n  "a": 1,\n  "b": [\n    true\n  ]\n}\n');
    const a = sealValue('int', '1');
    const t = sealValue('bool', 'true');
    expect(encrypted).toBe(
      `{\n  "a": "${a}",\n  "b": [\n    "${t}"\n  ],\n  "sops": {\n    "age": [\n      {\n        "enc": "-----BEGIN AGE ENCRYPTED FILE-----\\nYWdl\\n-----END AGE ENCRYPTED FILE-----\\n",\n        "recipient": "age1xyz"\n      }\n    ],\n` +
        `    "lastmodified": "2026-01-02T03:04:05Z",\n    "mac": "${sealValue('str', 'mac')}",\n    "version": "3.13.2"\n  }\n}\n`,
    );
  });

  it('uses a tab for one-line and empty objects, and the file\'s line ending', () => {
    expect(encryptedText('{"a":"b"}')).toMatch(/^\{"a":"ENC\[[^"]*\]",\n\t"sops": \{\n\t\t"age": \[\n\t\t\t\{\n/);
    expect(encryptedText('{"a":"b"}').endsWith('\n\t}}')).toBe(true);
    expect(encryptedText('{}\n')).toMatch(/^\{\n\t"sops": \{\n\t\t"age"[\s\S]*\n\t\}\n\}\n$/);
    expect(encryptedText('{\r\n  "a": 1\r\n}')).toMatch(/^\{\r\n  "a": "ENC\[[^"]*\]",\r\n  "sops": \{\r\n    "age": \[\r\n/);
  });

  it('writes changed values in place with Go escaping', () => {
    const file = parse('{\n  "a": "x",   "b": 1.0,\n  "c": [ "keep\\/me" ]\n}');
    const [a, b] = scalarsOf(file.documents[0]!) as Scalar[];
    a!.value = '<"\n\u2028>';
    b!.type = 'float';
    b!.value = 2.5;
    expect(emit(file)).toBe('{\n  "a": "\\u003c\\"\\n\\u2028\\u003e",   "b": 2.5,\n  "c": [ "keep\\/me" ]\n}');
  });

  it('re-encryption replaces the old sops value in place', () => {
    const plain = CANONICAL_VALUES['two spaces']!;
    const file = parse(encryptedText(plain, '3.13.0'));
    simulateDecrypt(file);
    const port = getEntry(getEntry(file.documents[0]!, 'db')!.value as MapNode, 'port')!.value as Scalar;
    port.value = 6543n;
    simulateEncrypt(file, '3.13.2');
    const reencrypted = emit(file);
    expect(reencrypted).toBe(encryptedText(plain.replace('5432', '6543'), '3.13.2'));
    expect(decryptedText(reencrypted)).toBe(plain.replace('5432', '6543'));
  });

  it.skipIf(!HAS_INTEROP)('changed metadata values are rewritten in place, unchanged ones kept as read', () => {
    const bytes = readFileSync(INTEROP + 'sops-repo/example.json', 'utf8');
    const file = parse(bytes);
    (getEntry(file.metadata!, 'version')!.value as Scalar).value = '3.13.2';
    expect(emit(file)).toBe(bytes.replace('"version": "3.5.0"', '"version": "3.13.2"'));
  });

  it.skipIf(!HAS_INTEROP)('metadata with another shape replaces the whole sops value', () => {
    const bytes = readFileSync(INTEROP + 'sops-repo/format.enc.json', 'utf8');
    const file = parse(bytes);
    file.metadata!.items.push({ kind: 'entry', key: 'zzz', value: str('1') });
    const out = emit(file);
    expect(out.startsWith(bytes.slice(0, bytes.indexOf('"sops": {') + 9))).toBe(true);
    expect(out.endsWith('\t\t"zzz": "1"\n\t}\n}\n')).toBe(true);
    expect(cloneNode(parse(out).metadata!)).toEqual(cloneNode(file.metadata!));
  });

  it.skipIf(!HAS_INTEROP)('decrypting a sops-written file drops the sops member with its comma', () => {
    const file = parse(readFileSync(INTEROP + 'sops-repo/format.enc.json'));
    (file.documents[0]!.items[0] as { value: Scalar }).value.value = 'bar';
    file.metadata = undefined;
    expect(emit(file)).toBe('{\n\t"foo": "bar"\n}\n');
    const old = parse(readFileSync(INTEROP + 'sops-repo/example.json'));
    old.metadata = undefined;
    expect(emit(old).endsWith('\t"anEmptyValue": ""\n}')).toBe(true);
  });

  it.each([
    ['sops first', '{\n  "sops": {"mac": "m"},\n  "a": 1\n}\n', '{\n  "a": 1\n}\n'],
    ['sops in the middle', '{"a": 1, "sops": {"mac": "m"}, "b": 2}', '{"a": 1, "b": 2}'],
    ['sops alone', '{\n  "sops": {"mac": "m"}\n}\n', '{}\n'],
  ])('removes the sops member when it comes %s', (_, text, expected) => {
    const file = parse(text);
    expect(file.metadata).toBeDefined();
    file.metadata = undefined;
    expect(emit(file)).toBe(expected);
  });
});

describe('JSON layout: falls back to the canonical layout when the structure changed', () => {
  const text = '{\n  "a": 1,\n  "b": {"c": 2}\n}\n';

  it('a member added', () => {
    const file = parse(text);
    file.documents[0]!.items.push({ kind: 'entry', key: 'new', value: str('v') });
    expect(emit(file)).toBe('{\n\t"a": 1,\n\t"b": {\n\t\t"c": 2\n\t},\n\t"new": "v"\n}\n');
  });

  it('a member removed, renamed or replaced by a container', () => {
    const removed = parse(text);
    removed.documents[0]!.items.shift();
    expect(emit(removed, 2)).toBe('{\n  "b": {\n    "c": 2\n  }\n}\n');
    const renamed = parse(text);
    (renamed.documents[0]!.items[0] as { key: string }).key = 'z';
    expect(emit(renamed, 2)).toBe('{\n  "z": 1,\n  "b": {\n    "c": 2\n  }\n}\n');
    const replaced = parse(text);
    (replaced.documents[0]!.items[0] as { value: Node }).value = list([]);
    expect(emit(replaced, 2)).toBe('{\n  "a": [],\n  "b": {\n    "c": 2\n  }\n}\n');
  });

  it('values swapped between members, or taken from another parse of the same text', () => {
    const swapped = parse('{"a": "x", "b": "y"}');
    const [a, b] = swapped.documents[0]!.items as { value: Node }[];
    [a!.value, b!.value] = [b!.value, a!.value];
    expect(emit(swapped, 0)).toBe('{\n"a": "y",\n"b": "x"\n}\n');
    const mine = parse('{"a": "x", "b": "y"}');
    const other = parse('{"a": "x", "b": "y"}');
    (mine.documents[0]!.items[1] as { value: Node }).value = (other.documents[0]!.items[1] as { value: Node }).value;
    expect(emit(mine, 0)).toBe('{\n"a": "x",\n"b": "y"\n}\n');
  });

  it('a nested value lifted out of its container', () => {
    const file = parse('{"l": ["x", ["y"]]}');
    const l = (file.documents[0]!.items[0] as { value: Node }).value as { items: Node[] };
    l.items[1] = (l.items[1] as { items: Node[] }).items[0]!;
    expect(emit(file, 0)).toBe('{\n"l": [\n"x",\n"y"\n]\n}\n');
  });

  it('a metadata node moved into the document', () => {
    const file = parse('{"a": 1, "sops": {"mac": "m"}, "b": 2}');
    const doc = file.documents[0]!;
    doc.items[1] = file.metadata!.items[0]!;
    file.metadata = undefined;
    expect(emit(file, 0)).toBe('{\n"a": 1,\n"mac": "m"\n}\n');
  });

  it('a different document object', () => {
    const file = parse(text);
    file.documents = [map([['x', str('y')]])];
    expect(emit(file)).toBe('{\n\t"x": "y"\n}\n');
  });

  it('a decrypted list comment, which JSON cannot hold', () => {
    const enc = sealValue('comment', ' a comment');
    const file = parse(`{\n  "l": [\n    "${enc}",\n    "x"\n  ]\n}\n`);
    expect(emit(file)).toBe(`{\n  "l": [\n    "${enc}",\n    "x"\n  ]\n}\n`);
    simulateDecryptComments(file);
    expect(emit(file)).toBe('{\n\t"l": [\n\t\t"x"\n\t]\n}\n');
  });

  it('duplicate sops members', () => {
    const file = parse('{"a": 1, "sops": {"mac": "1"}, "sops": {"mac": "2"}}');
    expect(getEntry(file.metadata!, 'mac')!.value).toMatchObject({ value: '2' });
    expect(emit(file)).toBe('{\n\t"a": 1,\n\t"sops": {\n\t\t"mac": "2"\n\t}\n}\n');
  });
});

function simulateDecryptComments(file: ParsedFile): void {
  for (const leaf of scalarsOf(file.documents[0]!)) {
    if (leaf.kind === 'comment') leaf.text = Buffer.from(ENC.exec(leaf.text)![1]!, 'base64').toString('utf8');
  }
}

describe('JSON layout: properties', () => {
  it('any JSON.stringify layout survives parse + emit, and encrypt + decrypt', () => {
    const key = fc.string().filter((k) => k !== 'sops');
    fc.assert(fc.property(fc.dictionary(key, fc.jsonValue()), fc.constantFrom(undefined, 1, 2, 4, '\t'), (value, space) => {
      // Only <, > and & inside strings are written differently by Go and JSON.stringify.
      const text = JSON.stringify(value, null, space).replace(/[<>&]/g, '_');
      expect(emit(parse(text))).toBe(text);
      expect(decryptedText(encryptedText(text))).toBe(text);
    }), { numRuns: 200 });
  });
});

describe('JSON layout: with real encryption', () => {
  let key: { identity: string; recipient: string };
  beforeAll(async () => {
    key = await throwawayAgeKey();
  });

  it.skipIf(!HAS_INTEROP).each(['two spaces', 'tab', 'compact', 'CRLF', 'unicode and escapes Go writes the same way', 'big numbers'])('%s', async (name) => {
    const text = CANONICAL_VALUES[name]!;
    const encrypted = await encryptText('json', text, key.recipient);
    expect(encrypted).toMatch(/"sops": \{/);
    expect(encrypted).not.toContain('admin');
    expect(await decryptText('json', encrypted, key.identity)).toBe(text);
  });

  it('keeps the 2-space layout of the encrypted file', async () => {
    const encrypted = await encryptText('json', CANONICAL_VALUES['two spaces']!, key.recipient);
    expect(encrypted).toMatch(/^\{\n {2}"db": \{\n {4}"user": "ENC\[AES256_GCM,[^"]+type:str\]",\n {4}"port": "ENC\[[^"]+type:int\]",/);
    expect(encrypted).toMatch(/\n {2}\],\n {2}"empty": \{\},\n {2}"none": \[\],\n {2}"sops": \{\n {4}"age": \[\n {6}\{\n {8}"enc": "-----BEGIN AGE ENCRYPTED FILE-----\\n/);
    expect(encrypted.endsWith('\n  }\n}\n')).toBe(true);
  });
});

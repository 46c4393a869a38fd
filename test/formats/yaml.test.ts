import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { formatYamlValue, yamlFormat } from '../../src/formats/yaml.js';
import { type Comment, type ListNode, type MapNode, type Node, type ParsedFile, type Scalar, toPlain } from '../../src/tree.js';
import { HAS_INTEROP, interopPath } from '../support/interop.js';

const interop = (path: string): Buffer => readFileSync(interopPath(path));
const parse = (text: string): ParsedFile => yamlFormat.parse(Buffer.from(text, 'utf8'));
const emit = (file: ParsedFile, indent?: number): string => Buffer.from(yamlFormat.emit(file, indent === undefined ? {} : { indent })).toString('utf8');

/** The tree without origins, bigints as `123n` strings: easy to compare. */
function bare(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (k, v) => (k === 'origin' ? undefined : typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? `bytes:${Buffer.from(v).toString('hex')}` : v)));
}

function only(text: string): Scalar {
  const doc = parse(text).documents[0]!;
  const entry = doc.items.find((i) => i.kind === 'entry');
  if (!entry || entry.kind !== 'entry' || entry.value.kind !== 'scalar') throw new Error('no scalar entry');
  return entry.value;
}

function parseError(text: string): InputError {
  try {
    parse(text);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

describe('scalar resolution (go-yaml v3 rules)', () => {
  const table: [string, Scalar['type'], unknown][] = [
    ['true', 'bool', true], ['True', 'bool', true], ['TRUE', 'bool', true], ['false', 'bool', false], ['False', 'bool', false], ['FALSE', 'bool', false],
    ['yes', 'str', 'yes'], ['no', 'str', 'no'], ['on', 'str', 'on'], ['off', 'str', 'off'], ['tRUE', 'str', 'tRUE'],
    ['~', 'null', null], ['null', 'null', null], ['Null', 'null', null], ['NULL', 'null', null], ['', 'null', null], ['nULL', 'str', 'nULL'],
    ['0', 'int', '0n'], ['-17', 'int', '-17n'], ['+5', 'int', '5n'], ['1_000_000', 'int', '1000000n'], ['0x1F', 'int', '31n'], ['0o17', 'int', '15n'],
    ['0b101', 'int', '5n'], ['017', 'int', '15n'], ['-0x10', 'int', '-16n'], ['9223372036854775807', 'int', '9223372036854775807n'],
    ['-9223372036854775808', 'int', '-9223372036854775808n'], ['08', 'float', 8],
    ['1.5', 'float', 1.5], ['.5', 'float', 0.5], ['-.5', 'float', -0.5], ['1e3', 'float', 1000], ['1.', 'float', 1], ['1_000.5', 'float', 1000.5],
    ['.inf', 'float', 'Infinity'], ['-.Inf', 'float', '-Infinity'], ['+.INF', 'float', 'Infinity'], ['.nan', 'float', 'NaN'], ['._5', 'str', '._5'],
    ['2024-01-01', 'time', '2024-01-01T00:00:00Z'], ['2024-1-2', 'time', '2024-01-02T00:00:00Z'],
    ['2024-05-06T07:08:09Z', 'time', '2024-05-06T07:08:09Z'], ['2024-05-06t07:08:09.120+02:00', 'time', '2024-05-06T07:08:09.12+02:00'],
    ['2024-05-06T07:08:09-00:00', 'time', '2024-05-06T07:08:09Z'], ['2024-05-06 07:08:09.5', 'time', '2024-05-06T07:08:09.5Z'],
    ['2024-05-06T07:08:09', 'str', '2024-05-06T07:08:09'], ['2024-02-30', 'str', '2024-02-30'], ['24-01-01', 'str', '24-01-01'],
    ['0x', 'str', '0x'], ['1.2.3', 'str', '1.2.3'], ['-a', 'str', '-a'], ['+', 'str', '+'], ['12:30', 'str', '12:30'], ['hello world', 'str', 'hello world'],
  ];
  it.each(table)('%j is %s', (text, type, value) => {
    const node = only(`k: ${text}\n`);
    expect(node.type).toBe(type);
    const shown = typeof node.value === 'bigint' ? `${node.value}n` : typeof node.value === 'number' && !Number.isFinite(node.value) ? String(node.value) : node.value;
    expect(shown).toEqual(value);
  });

  it('quoted and !!str scalars are strings', () => {
    for (const text of ['"true"', "'123'", '!!str 1.5', '"2024-01-01"', "''", '!!str', '"null"']) expect(only(`k: ${text}\n`).type, text).toBe('str');
  });

  it('explicit core tags resolve by tag', () => {
    expect(bare(only('k: !!int "12"\n'))).toMatchObject({ type: 'int', value: '12n' });
    expect(bare(only('k: !!float 3\n'))).toMatchObject({ type: 'float', value: 3 });
    expect(bare(only('k: !!bool "true"\n'))).toMatchObject({ type: 'bool', value: true });
    expect(bare(only('k: !!null ~\n'))).toMatchObject({ type: 'null', value: null });
    expect(bare(only('k: !!timestamp 2024-01-01\n'))).toMatchObject({ type: 'time', value: '2024-01-01T00:00:00Z' });
    expect(bare(only('k: !!binary aGVsbG8=\n'))).toMatchObject({ type: 'bytes', value: 'bytes:68656c6c6f' });
    expect(parseError('k: !!int nope\n').message).toMatch(/does not match its !!int tag/);
  });

  it('custom tags keep the string and warn', () => {
    const file = parse('k: !Ref other\n');
    expect(bare(file.documents[0])).toEqual({ kind: 'map', items: [{ kind: 'entry', key: 'k', value: { kind: 'scalar', type: 'str', value: 'other' } }] });
    expect(file.warnings).toEqual([expect.stringMatching(/custom YAML tag \(line \d+\) is read as a string/)]);
  });

  it('block scalars, folded and quoted strings', () => {
    expect(only('k: |\n  a\n  b\n').value).toBe('a\nb\n');
    expect(only('k: |-\n  a\n').value).toBe('a');
    expect(only('k: |+\n  a\n\n').value).toBe('a\n\n');
    expect(only('k: >-\n  a\n  b\n').value).toBe('a b');
    expect(only('k: "a\\tb\\u00e9"\n').value).toBe('a\tb\u00e9');
    expect(only("k: 'it''s'\n").value).toBe("it's");
  });

  it('integers beyond int64 are an error naming the place', () => {
    const e = parseError('a: 1\nbig: 9223372036854775808\n');
    expect(e.message).toMatch(/line 2, column 6/);
    expect(e.message).toMatch(/int64/);
  });
});

describe('comments', () => {
  it('places head, inline, between and trailing comments', () => {
    const file = parse('# head\na: 1 # inline\n# between\nb:\n  c: 2\n  # end of b\n# end of root\n');
    expect(bare(file.documents[0])).toEqual({
      kind: 'map',
      items: [
        { kind: 'comment', text: ' head' },
        { kind: 'comment', text: ' inline', inline: true },
        { kind: 'entry', key: 'a', value: { kind: 'scalar', type: 'int', value: '1n' } },
        { kind: 'comment', text: ' between' },
        {
          kind: 'entry', key: 'b',
          value: { kind: 'map', items: [{ kind: 'entry', key: 'c', value: { kind: 'scalar', type: 'int', value: '2n' } }, { kind: 'comment', text: ' end of b' }] },
        },
        { kind: 'comment', text: ' end of root' },
      ],
    });
  });

  it('a trailing comment between the nested and the root column goes to the deepest container it fits', () => {
    const root = parse('a:\n    b:\n        c: 1\n      # col 6: in a\n  # col 2: in root\n    # col 4, after one went out: in root\n').documents[0]!;
    const a = (root.items[0] as { value: MapNode }).value;
    const b = (a.items[0] as { value: MapNode }).value;
    expect(b.items.map((i) => i.kind)).toEqual(['entry']);
    expect(a.items.filter((i) => i.kind === 'comment').map((c) => (c as Comment).text)).toEqual([' col 6: in a']);
    expect(root.items.slice(1).map((c) => (c as Comment).text)).toEqual([' col 2: in root', ' col 4, after one went out: in root']);
  });

  it('comments in sequences are items of the list; inline ones are flagged and come first', () => {
    const list = (parse('l:\n  # first\n  - a # on a\n  # between\n  - b\n# root\n').documents[0]!.items[0] as { value: ListNode }).value;
    expect(bare(list.items)).toEqual([
      { kind: 'comment', text: ' first' },
      { kind: 'comment', text: ' on a', inline: true },
      { kind: 'scalar', type: 'str', value: 'a' },
      { kind: 'comment', text: ' between' },
      { kind: 'scalar', type: 'str', value: 'b' },
    ]);
  });

  it('a comment on a key line, a block scalar header or a flow collection line is inline', () => {
    const items = parse('a: # on a\n  b: 1\nc: | # on c\n  x\nd: [1, 2] # on d\n').documents[0]!.items;
    expect(items.filter((i) => i.kind === 'comment').map((c) => bare(c))).toEqual([
      { kind: 'comment', text: ' on a', inline: true },
      { kind: 'comment', text: ' on c', inline: true },
      { kind: 'comment', text: ' on d', inline: true },
    ]);
    expect(items.map((i) => i.kind)).toEqual(['comment', 'entry', 'comment', 'entry', 'comment', 'entry']);
  });

  it('an ENC list element of type comment is a comment item', () => {
    const enc = 'ENC[AES256_GCM,data:YQ==,iv:aXY=,tag:dA==,type:comment]';
    const list = (parse(`l:\n    - ${enc}\n    - x\n`).documents[0]!.items[0] as { value: ListNode }).value;
    expect(bare(list.items[0])).toEqual({ kind: 'comment', text: enc });
    expect(bare(list.items[1])).toEqual({ kind: 'scalar', type: 'str', value: 'x' });
  });
});

describe('errors', () => {
  const secret = 'hunter2-SECRET-do-not-print';
  it.each([
    ['duplicate key', `a: 1\nb: ${secret}\na: 2\n`, /line 3, column 1: duplicate key "a" \(line 3\)/],
    ['duplicate key in a flow map', `m: {x: ${secret}, x: 2}\n`, /duplicate key "x"/],
    ['int key', `1: ${secret}\n`, /non-string key.*|line 1, column 1/],
    ['bool key', `a: 1\ntrue: ${secret}\n`, /line 2, column 1: non-string key/],
    ['null key', `~: ${secret}\n`, /non-string key/],
    ['float key in a nested map', `a:\n  1.5: ${secret}\n`, /line 2, column 3: non-string key/],
    ['complex key', `? [a, b]\n: ${secret}\n`, /non-string key/],
    ['root sequence', `- ${secret}\n`, /top level must be a mapping/],
    ['root scalar', `${secret}\n`, /top level must be a mapping/],
    ['unclosed quote', `a: "${secret}\n`, /not closed/],
    ['unclosed flow', `a: [${secret}, b\n`, /unclosed \[/],
    ['bad escape', `a: "${secret}\\q"\n`, /invalid escape/],
    ['compact nested map', `a: ${secret}: c\n`, /line 1/],
    ['bad indentation', `a:\n  b: ${secret}\n c: 2\n`, /line 3, column 2: bad indentation/],
    ['multi-line key', `a\n${secret}: 1\n`, /key must fit on one line/],
    ['reserved start', `a: @${secret}\n`, /reserved character/],
    ['unknown alias', `a: *${'x'}\nb: ${secret}\n`, /unknown alias/],
    ['stream garbage', `a: 1\n--- ${secret}: x\n`, /line 2/],
  ])('%s is an InputError with a place and without the value', (_name, text, pattern) => {
    const e = parseError(text);
    expect(e.message).toMatch(pattern);
    expect(e.message).toMatch(/line \d+, column \d+/);
    expect(e.message).not.toContain(secret);
    expect(e.message).not.toContain('\n');
  });

  it('duplicate keys in later documents are allowed', () => {
    expect(parse('a: 1\n---\nb: 1\nb: 2\n').documents).toHaveLength(2);
  });

  it('names the file when given', () => {
    expect(() => yamlFormat.parse(Buffer.from('- x\n'), { file: 'f.yaml' })).toThrow(expect.objectContaining({ file: 'f.yaml' }));
  });

  it('10,000-deep nesting ends in a clean error', () => {
    const flow = 'a: ' + '['.repeat(10_000) + ']'.repeat(10_000) + '\n';
    expect(parseError(flow).message).toMatch(/nesting deeper than 1000 levels/);
    let block = '';
    for (let i = 0; i < 10_000; i++) block += ' '.repeat(i) + 'k:\n';
    expect(parseError(block).message).toMatch(/nesting deeper than 1000 levels/);
    const maps = 'a: ' + '{a: '.repeat(10_000) + '1' + '}'.repeat(10_000) + '\n';
    expect(parseError(maps).message).toMatch(/nesting deeper/);
  });

  it('alias bombs are refused', () => {
    let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 9; i++) text += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
    expect(parseError(text).message).toMatch(/too many values/);
  });
});

describe('documents', () => {
  it('multi-document streams give one map per document; empty documents are empty maps', () => {
    const file = parse('a: 1\n---\n---\n~\n---\nb: 2\n...\n');
    expect(file.documents.map((d) => toPlain(d))).toEqual([{ a: 1 }, {}, {}, { b: 2 }]);
  });

  it('an empty input has no document; a comment-only input has one holding the comments', () => {
    expect(parse('').documents).toEqual([]);
    expect(bare(parse('# only\n').documents)).toEqual([{ kind: 'map', items: [{ kind: 'comment', text: ' only' }] }]);
  });

  it('anchors and aliases are expanded into independent copies, with one warning', () => {
    const file = parse('base: &b {x: 1, y: [a, b]}\nother: *b\nmerged:\n  <<: *b\n  z: 2\nname: &n value\nagain: *n\n');
    expect(toPlain(file.documents[0]!)).toEqual({
      base: { x: 1, y: ['a', 'b'] }, other: { x: 1, y: ['a', 'b'] }, merged: { '<<': { x: 1, y: ['a', 'b'] }, z: 2 }, name: 'value', again: 'value',
    });
    const [base, other] = file.documents[0]!.items as { value: MapNode }[];
    expect(other!.value).not.toBe(base!.value);
    expect(file.warnings).toEqual(['YAML anchors/aliases were expanded: each copy is encrypted separately']);
  });

  it('a BOM is accepted and kept', () => {
    const text = '\ufeffa: 1\n# c\n';
    const file = parse(text);
    expect(toPlain(file.documents[0]!)).toEqual({ a: 1 });
    expect(emit(file)).toBe(text);
    expect(parseError('\ufeffa: 1\n@b: 2\n').message).toMatch(/line 2, column 1/);
    expect(parseError('\ufeff@b: 2\n').message).toMatch(/line 1, column 1/);
  });
});

describe('the sops block', () => {
  it.skipIf(!HAS_INTEROP)('example.yaml: metadata fields, ENC values and encrypted comments', () => {
    const file = yamlFormat.parse(interop('sops-repo/example.yaml'));
    const meta = toPlain(file.metadata!) as Record<string, unknown>;
    expect(Object.keys(meta)).toEqual(expect.arrayContaining(['lastmodified', 'mac', 'pgp', 'unencrypted_suffix', 'version']));
    expect((meta.pgp as { fp: string }[]).map((p) => p.fp)).toContain('FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4');
    expect((meta.pgp as { enc: string }[])[0]!.enc).toMatch(/^-----BEGIN PGP MESSAGE-----\n[\s\S]*-----END PGP MESSAGE-----$/);
    const doc = file.documents[0]!;
    expect(doc.items.some((i) => i.kind === 'entry' && i.key === 'sops')).toBe(false);
    const plain = toPlain(doc) as Record<string, unknown>;
    expect(plain.myapp1).toMatch(/^ENC\[AES256_GCM,.*type:str\]$/);
    const db = ((doc.items.find((i) => i.kind === 'entry' && i.key === 'app2') as { value: MapNode }).value.items[0] as { value: MapNode }).value;
    expect(db.items.at(-1)).toMatchObject({ kind: 'comment', text: expect.stringMatching(/^ENC\[AES256_GCM,.*type:comment\]$/) });
  });

  it.skipIf(!HAS_INTEROP)('comments.enc.yaml (old `-   ` indentation): top-level encrypted comments, old metadata layout', () => {
    const file = yamlFormat.parse(interop('sops-repo/comments.enc.yaml'));
    const items = file.documents[0]!.items;
    expect(items.map((i) => i.kind)).toEqual(['comment', 'entry', 'comment', 'entry']);
    expect((items[0] as Comment).text).toMatch(/^ENC\[.*type:comment\]$/);
    const meta = toPlain(file.metadata!) as Record<string, unknown>;
    expect(meta).toMatchObject({ kms: [], age: [], lastmodified: '2020-10-07T15:49:13Z', version: '3.6.1', unencrypted_suffix: '_unencrypted' });
    expect((meta.pgp as { enc: string }[])[0]!.enc.endsWith('-----END PGP MESSAGE-----\n')).toBe(true);
  });

  it.skipIf(!HAS_INTEROP)('multiple_keys.yaml and the age sample', () => {
    const multi = toPlain(yamlFormat.parse(interop('sops-repo/multiple_keys.yaml')).metadata!) as { pgp: unknown[] };
    expect(multi.pgp.length).toBeGreaterThanOrEqual(2);
    const age = yamlFormat.parse(interop('sops-age-repo/secret.enc.yaml'));
    const meta = toPlain(age.metadata!) as { age: { recipient: string; enc: string }[] };
    expect(meta.age.map((a) => a.recipient)).toContain('age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr');
    expect(meta.age[0]!.enc).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----\n[\s\S]*\n-----END AGE ENCRYPTED FILE-----\n$/);
  });

  it.skipIf(!HAS_INTEROP)('real samples survive parse and emit byte for byte', () => {
    for (const name of ['sops-repo/example.yaml', 'sops-repo/comments.enc.yaml', 'sops-repo/multiple_keys.yaml', 'sops-repo/no_mac.yaml', 'sops-repo/comments_unencrypted_comments.yaml', 'sops-age-repo/secret.enc.yaml']) {
      const bytes = interop(name);
      expect(emit(yamlFormat.parse(bytes)), name).toBe(bytes.toString('utf8'));
    }
  });

  it('comments inside the sops block are dropped; sops keys leave every document', () => {
    const file = parse('a: 1\nsops:\n    # note\n    version: 3.13.2\n---\nb: 2\nsops:\n    version: 1.0.0\n');
    expect(bare(file.metadata)).toEqual({ kind: 'map', items: [{ kind: 'entry', key: 'version', value: { kind: 'scalar', type: 'str', value: '3.13.2' } }] });
    expect(file.documents.map((d) => toPlain(d))).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('a sops key that is no mapping is an error', () => {
    expect(() => parse('a: 1\nsops: yes\n')).toThrow(InputError);
  });
});

describe('canonical emission (go-yaml style)', () => {
  const tree = (): ParsedFile => ({
    format: 'json',
    documents: [{
      kind: 'map',
      items: [
        { kind: 'comment', text: ' head' },
        { kind: 'entry', key: 'name', value: { kind: 'scalar', type: 'str', value: 'app' } },
        { kind: 'comment', text: ' why', inline: true },
        { kind: 'entry', key: 'port', value: { kind: 'scalar', type: 'int', value: 8080n } },
        { kind: 'entry', key: 'ratio', value: { kind: 'scalar', type: 'float', value: 1 } },
        { kind: 'entry', key: 'big', value: { kind: 'scalar', type: 'float', value: 1234568000 } },
        { kind: 'entry', key: 'on', value: { kind: 'scalar', type: 'bool', value: true } },
        { kind: 'entry', key: 'nothing', value: { kind: 'scalar', type: 'null', value: null } },
        { kind: 'entry', key: 'strs', value: { kind: 'list', items: ['true', '123', '', 'yes', 'a: b', '- x', 'tab\there', 'ends:', '2024-01-01', 'ENC[AES256_GCM,data:eA==,iv:aQ==,tag:dA==,type:str]'].map((s) => ({ kind: 'scalar', type: 'str', value: s }) as Scalar) } },
        { kind: 'entry', key: 'text', value: { kind: 'scalar', type: 'str', value: 'line 1\nline 2\n' } },
        { kind: 'entry', key: 'people', value: { kind: 'list', items: [
          { kind: 'map', items: [{ kind: 'entry', key: 'y', value: { kind: 'scalar', type: 'str', value: 'x' } }, { kind: 'entry', key: 'tags', value: { kind: 'list', items: [{ kind: 'scalar', type: 'str', value: 't' }] } }] },
          { kind: 'list', items: [{ kind: 'scalar', type: 'int', value: 1n }, { kind: 'scalar', type: 'int', value: 2n }] },
          { kind: 'map', items: [] },
        ] } },
        { kind: 'entry', key: 'empty', value: { kind: 'list', items: [] } },
      ],
    }],
  });

  it('writes block style, 4 spaces, indented sequences, go-yaml quoting', () => {
    expect(emit(tree())).toBe(
      `# head
name: app
port: 8080 # why
ratio: 1.0
big: 1.234568e+09
"on": true
nothing: null
strs:
    - "true"
    - "123"
    - ""
    - "yes"
    - 'a: b'
    - '- x'
    - "tab\\there"
    - 'ends:'
    - "2024-01-01"
    - ENC[AES256_GCM,data:eA==,iv:aQ==,tag:dA==,type:str]
text: |
    line 1
    line 2
people:
    - "y": x
      tags:
        - t
    - - 1
      - 2
    - {}
empty: []
`);
  });

  it('honours the indent and writes documents, sops blocks and list ENC comments like sops', () => {
    const file: ParsedFile = {
      format: 'yaml',
      documents: [
        { kind: 'map', items: [{ kind: 'entry', key: 'a', value: { kind: 'map', items: [{ kind: 'entry', key: 'b', value: { kind: 'list', items: [{ kind: 'comment', text: 'ENC[AES256_GCM,data:eA==,iv:aQ==,tag:dA==,type:comment]' }, { kind: 'scalar', type: 'str', value: 'v' }] } }] } }] },
        { kind: 'map', items: [] },
      ],
      metadata: {
        kind: 'map',
        items: [
          { kind: 'entry', key: 'age', value: { kind: 'list', items: [{ kind: 'map', items: [{ kind: 'entry', key: 'recipient', value: { kind: 'scalar', type: 'str', value: 'age1xyz' } }, { kind: 'entry', key: 'enc', value: { kind: 'scalar', type: 'str', value: '-----BEGIN AGE ENCRYPTED FILE-----\nYWJj\n-----END AGE ENCRYPTED FILE-----\n' } }] }] } },
          { kind: 'entry', key: 'lastmodified', value: { kind: 'scalar', type: 'str', value: '2026-01-02T03:04:05Z' } },
          { kind: 'entry', key: 'shamir_threshold', value: { kind: 'scalar', type: 'int', value: 2n } },
          { kind: 'entry', key: 'version', value: { kind: 'scalar', type: 'str', value: '3.13.2' } },
        ],
      },
    };
    const sops = `sops:
    age:
        - recipient: age1xyz
          enc: |
            -----BEGIN AGE ENCRYPTED FILE-----
            YWJj
            -----END AGE ENCRYPTED FILE-----
    lastmodified: "2026-01-02T03:04:05Z"
    shamir_threshold: 2
    version: 3.13.2
`;
    expect(emit(file, 2)).toBe(`a:\n  b:\n    - ENC[AES256_GCM,data:eA==,iv:aQ==,tag:dA==,type:comment]\n    - v\n${sops}---\n${sops}`);
    const again = parse(emit(file, 2));
    expect(bare(again.documents)).toEqual(bare(file.documents));
    expect(bare(again.metadata)).toEqual(bare(file.metadata));
  });

  it('formatYamlValue writes one value', () => {
    expect(formatYamlValue({ kind: 'scalar', type: 'str', value: 'true' })).toBe('"true"\n');
    expect(formatYamlValue({ kind: 'scalar', type: 'float', value: 2 })).toBe('2.0\n');
    expect(formatYamlValue({ kind: 'scalar', type: 'str', value: 'a\nb' })).toBe('|-\n    a\n    b\n');
    expect(formatYamlValue({ kind: 'list', items: [{ kind: 'scalar', type: 'int', value: 1n }] }, 2)).toBe('- 1\n');
    expect(formatYamlValue({ kind: 'map', items: [{ kind: 'entry', key: 'k', value: { kind: 'map', items: [{ kind: 'entry', key: 'j', value: { kind: 'scalar', type: 'bool', value: false } }] } }] })).toBe('k:\n    j: false\n');
    expect(formatYamlValue({ kind: 'map', items: [] })).toBe('{}\n');
  });

  it('rejects a negative indent', () => {
    expect(() => yamlFormat.emit({ format: 'json', documents: [] }, { indent: -1 })).toThrow(/invalid YAML indent/);
  });
});

describe('canonical trees re-parse to themselves (property)', () => {
  const keyArb = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('true', '1', 'null', '- a', 'a: b', '#x', 'sops_x', '<<', ' pad '));
  const textArb = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('yes', '0x1F', '1e3', '.inf', '2024-01-01', 'a\nb', 'x\n', ' lead\n', 'tail\n\n', "'q'", '"d"', 'tab\t', 'ENC[AES256_GCM,data:eA==,iv:aQ==,tag:dA==,type:str]'));
  const scalarArb: fc.Arbitrary<Node> = fc.oneof(
    textArb.map((s) => ({ kind: 'scalar', type: 'str', value: s }) as Scalar),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => ({ kind: 'scalar', type: 'int', value: v }) as Scalar),
    fc.double().map((v) => ({ kind: 'scalar', type: 'float', value: v }) as Scalar),
    fc.boolean().map((v) => ({ kind: 'scalar', type: 'bool', value: v }) as Scalar),
    fc.constant({ kind: 'scalar', type: 'null', value: null } as Scalar),
    fc.constantFrom('2024-01-01T00:00:00Z', '2024-05-06T07:08:09.5+02:00').map((v) => ({ kind: 'scalar', type: 'time', value: v }) as Scalar),
  );
  const commentArb = fc.string({ maxLength: 15 }).filter((s) => !/[\n\r\u0085\u2028\u2029]/.test(s) && !/\s$/.test(s)).map((text) => ({ kind: 'comment', text }) as Comment);
  const { node } = fc.letrec<{ node: Node }>((tie) => ({
    node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalarArb, fc.array(fc.oneof(tie('node'), commentArb), { maxLength: 4 }).filter((items) => !items.length || items.some((i) => i.kind !== 'comment')).map((items) => ({ kind: 'list', items }) as ListNode), fc.uniqueArray(fc.tuple(keyArb, tie('node')), { maxLength: 4, selector: ([k]) => k }).map((es) => ({ kind: 'map', items: es.map(([key, value]) => ({ kind: 'entry', key, value })) }) as MapNode)),
  }));
  const docArb = fc.uniqueArray(fc.tuple(keyArb, node), { maxLength: 5, selector: ([k]) => k }).filter((es) => !es.some(([k]) => k === 'sops'))
    .map((es) => ({ kind: 'map', items: es.map(([key, value]) => ({ kind: 'entry', key, value })) }) as MapNode);

  it('holds for random trees at indents 2 and 4', () => {
    fc.assert(fc.property(docArb, fc.constantFrom(2, 4), (doc, indent) => {
      const text = emit({ format: 'json', documents: [doc] }, indent);
      const back = parse(text);
      // A list comment is a comment again; bare() drops origins; NaN and -0 compare by JSON text.
      expect(bare(back.documents[0])).toEqual(bare(doc));
    }), { numRuns: 300 });
  });
});

describe('performance', () => {
  it('parses and emits a 10,000-value file quickly', () => {
    let text = '# generated\n';
    for (let i = 0; i < 1000; i++) {
      text += `service_${i}:\n  name: "service number ${i}"\n  port: ${8000 + i}\n  enabled: true\n  ratio: 0.${i}\n  tags: [a, b, c]\n  # a comment\n  secret: ENC[AES256_GCM,data:${'x'.repeat(200)},iv:aXY=,tag:dA==,type:str]\n  note: |\n    line one\n    line two\n`;
    }
    const started = performance.now();
    const file = parse(text);
    const out = emit(file);
    const elapsed = performance.now() - started;
    console.log(`yaml: ${(text.length / 1024).toFixed(0)} KiB, 10,000 values, parse + emit ${elapsed.toFixed(1)} ms`);
    expect(out).toBe(text);
    // Generous: the `yaml` package's tokenizer dominates and shared CI machines vary.
    expect(elapsed).toBeLessThan(3000);
  });
});

describe('names of Object.prototype members are ordinary strings', () => {
  // Found by the sops-age property test: a plain `valueOf` key was looked up in an object literal.
  it.each(['valueOf', 'constructor', 'toString', 'hasOwnProperty', '__proto__', 'isPrototypeOf'])('%s as a key and as a value', async (name) => {
    const { yamlFormat } = await import('../../src/formats/yaml.js');
    const parsed = yamlFormat.parse(Buffer.from(`${name}: ${name}\n`));
    const entry = parsed.documents[0]!.items[0]!;
    expect(entry).toMatchObject({ kind: 'entry', key: name, value: { kind: 'scalar', type: 'str', value: name } });
  });
});

describe('directives (go-yaml v3 rules)', () => {
  it('accepts %YAML 1.1 and %TAG, and keeps them as structure', () => {
    const text = '%YAML 1.1\n%TAG !e! tag:example.com,2000:\n---\na: b\n';
    expect(toPlain(parse(text).documents[0]!)).toEqual({ a: 'b' });
    expect(emit(parse(text))).toBe(text);
    // Each document declares its own.
    expect(parse('%YAML 1.1\n---\na: 1\n...\n%YAML 1.1\n---\nb: 2\n').documents).toHaveLength(2);
  });

  it.each([
    ['%YAML 1.2\n---\na: b\n', /incompatible YAML version/],
    ['%YAML 2.0\n---\na: b\n', /incompatible YAML version/],
    ['%YAML one\n---\na: b\n', /malformed %YAML directive/],
    ['%YAML 1.1\n%YAML 1.1\n---\na: b\n', /duplicate %YAML directive/],
    ['%TAG !e! tag:x,2000:\n%TAG !e! tag:y,2000:\n---\na: b\n', /duplicate %TAG directive/],
    ['%TAG !e! \n---\na: b\n', /malformed %TAG directive/],
    ['%TAG e tag:x:\n---\na: b\n', /malformed %TAG directive/],
    ['%FOO s3cr3t-value\n---\na: b\n', /unknown directive/],
    ['%s3cr3t\n---\na: b\n', /unknown directive/],
    ['%YAML 1.1\na: b\n', /a directive must be followed by ---/],
    ['%YAML 1.1\n', /a directive must be followed by ---/],
    ['a: 1\n...\n%TAG !e! tag:x:\n', /a directive must be followed by ---/],
  ])('refuses %j', (text, message) => {
    const e = parseError(text);
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(/^invalid YAML at line \d+, column \d+: /);
    expect(e.message).not.toMatch(/s3cr3t/);
  });
});

describe('block scalars at the end of a file without a final line break (go-yaml v3)', () => {
  // go-yaml adds only the line breaks it read, so a last line with none gets none,
  // for every chomping indicator; the YAML 1.2 spec would add one for clip and keep.
  it.each([
    ['|', 'multi\nline'], ['|-', 'multi\nline'], ['|+', 'multi\nline'],
    ['>', 'multi line'], ['>-', 'multi line'], ['>+', 'multi line'],
  ])('a: %s', (indicator, want) => {
    expect(only(`a: ${indicator}\n  multi\n  line`).value).toBe(want);
    // With the final line break, the indicator decides as usual.
    expect(only(`a: ${indicator}\n  multi\n  line\n`).value).toBe(indicator.endsWith('-') ? want : `${want}\n`);
  });

  it('only the last value of the file is affected, nested too; trailing blank or space lines count as read breaks', () => {
    expect(toPlain(parse('a: |\n  x\nb:\n  c: |\n    multi\n    line').documents[0]!)).toEqual({ a: 'x\n', b: { c: 'multi\nline' } });
    expect(only('a: |+\n  x\n\n  y').value).toBe('x\n\ny');
    expect(only('a: |\n  x\n  ').value).toBe('x\n');
    expect(only('a: |+\n  x\n\n').value).toBe('x\n\n');
    expect(only('a: |').value).toBe('');
  });
});

describe('flow collections laid out as JSON writes them', () => {
  it('a nested collection closed on its own line, and an empty one over two lines', () => {
    const json = '{\n  "l": [\n    {\n      "x": "y"\n    }\n  ],\n  "m": {\n    "n": [\n      1\n    ]\n  }\n}\n';
    expect(toPlain(parse(json).documents[0]!)).toEqual({ l: [{ x: 'y' }], m: { n: [1] } });
    expect(toPlain(parse(json.replace(/ {2}/g, '\t')).documents[0]!)).toEqual({ l: [{ x: 'y' }], m: { n: [1] } });
    expect(toPlain(parse('a: [\n]\nb: {\n}\n').documents[0]!)).toEqual({ a: [], b: {} });
    expect(emit(parse(json))).toBe(json);
  });

  it.each(['a: [1,,2]\n', 'a: [,]\n', 'a: [, 1]\n', 'a: {x: 1,, y: 2}\n', 'a: {,}\n'])('a comma without an entry before it is an error, as in go-yaml: %j', (text) => {
    expect(parseError(text).message).toMatch(/unexpected "," in a flow collection/);
  });
});

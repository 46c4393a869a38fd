import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { yamlFormat } from '../../src/formats/yaml.js';
import { type Comment, getEntry, type ListNode, type MapNode, type Node, type ParsedFile, type Scalar, toPlain } from '../../src/tree.js';
import { HAS_INTEROP, interopPath } from '../support/interop.js';

const fixtures = fileURLToPath(new URL('../../fixtures/layout/', import.meta.url));
const interop = (path: string): string => readFileSync(interopPath(path), 'utf8');
const parse = (text: string): ParsedFile => yamlFormat.parse(Buffer.from(text, 'utf8'));
const emit = (file: ParsedFile, indent?: number): string => Buffer.from(yamlFormat.emit(file, indent === undefined ? {} : { indent })).toString('utf8');

type Leaf = Scalar | Comment;
function leaves(node: Node | Comment, out: Leaf[] = []): Leaf[] {
  if (node.kind === 'comment' || node.kind === 'scalar') out.push(node);
  else for (const item of node.items) leaves(item.kind === 'entry' ? item.value : item, out);
  return out;
}
const docLeaves = (file: ParsedFile): Leaf[] => file.documents.flatMap((d) => leaves(d));

let counter = 0;
const enc = (type: string): string => `ENC[AES256_GCM,data:${Buffer.from(`v${counter++}`).toString('base64')},iv:aXZpdml2aXZpdg==,tag:dGFndGFn,type:${type}]`;

const metadata = (): MapNode => ({
  kind: 'map',
  items: [
    { kind: 'entry', key: 'age', value: { kind: 'list', items: [{ kind: 'map', items: [
      { kind: 'entry', key: 'recipient', value: { kind: 'scalar', type: 'str', value: 'age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq' } },
      { kind: 'entry', key: 'enc', value: { kind: 'scalar', type: 'str', value: '-----BEGIN AGE ENCRYPTED FILE-----\nYWJjZGVm\n-----END AGE ENCRYPTED FILE-----\n' } },
    ] }] } },
    { kind: 'entry', key: 'lastmodified', value: { kind: 'scalar', type: 'str', value: '2026-01-02T03:04:05Z' } },
    { kind: 'entry', key: 'mac', value: { kind: 'scalar', type: 'str', value: 'ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]' } },
    { kind: 'entry', key: 'version', value: { kind: 'scalar', type: 'str', value: '3.13.2' } },
  ],
});

/** What the document layer does on encryption: every non-null scalar and every comment becomes an ENC string. */
function encryptInPlace(file: ParsedFile): void {
  for (const leaf of docLeaves(file)) {
    if (leaf.kind === 'comment') leaf.text = enc('comment');
    else if (leaf.type !== 'null') {
      leaf.value = enc(leaf.type);
      leaf.type = 'str';
    }
  }
  file.metadata = metadata();
}

/** What it does on decryption: the values come back (here: from the original parse), the metadata goes. */
function decryptInPlace(file: ParsedFile, original: ParsedFile): void {
  const plain = docLeaves(original);
  const encrypted = docLeaves(file);
  expect(encrypted.length).toBe(plain.length);
  encrypted.forEach((leaf, i) => {
    const was = plain[i]!;
    expect(leaf.kind).toBe(was.kind);
    if (leaf.kind === 'comment') leaf.text = (was as Comment).text;
    else {
      leaf.type = (was as Scalar).type;
      leaf.value = (was as Scalar).value;
    }
  });
  file.metadata = undefined;
}

/** Scalars whose writing changes over an encrypt/decrypt cycle: quoting that was not needed, folded text, normalised numbers and times. */
const normalised: Record<string, [string, string][]> = {
  'app-config.yaml': [
    ['password: "p@ss: with colon"', "password: 'p@ss: with colon'"],
    ['rollout: .25', 'rollout: 0.25'],
    ['max_upload: 1e6', 'max_upload: 1e+06'],
    ['started: 2024-05-01', 'started: 2024-05-01T00:00:00Z'],
    ['banner: >-\n    folded text that\n    spans two lines', 'banner: folded text that spans two lines'],
    ["quoted: 'it''s quoted'", "quoted: it's quoted"],
    ['unicode: "caf\\u00e9 \\u2603"', 'unicode: café ☃'],
  ],
  'docker-compose.yaml': [
    ['- "8000:5000"', '- 8000:5000'],
    ['image: "redis:7-alpine"', 'image: redis:7-alpine'],
    ['test: ["CMD-SHELL", "pg_isready -U app"]', 'test: [CMD-SHELL, pg_isready -U app]'],
  ],
  'helm-values.yaml': [["adminPassword: 'correct horse battery staple'", 'adminPassword: correct horse battery staple']],
  'k8s-manifests.yaml': [
    ['DB_PASSWORD: "hunter2-but-longer"', 'DB_PASSWORD: hunter2-but-longer'],
    ['motd: >-\n    Welcome to the payments\n    service, have a nice day.', 'motd: Welcome to the payments service, have a nice day.'],
  ],
  'github-workflow.yaml': [],
};

const fixtureNames = readdirSync(fixtures).filter((n) => n.endsWith('.yaml')).sort();

describe('layout fixtures', () => {
  it('the fixture set is the expected one', () => {
    expect(fixtureNames).toEqual(Object.keys(normalised).sort());
  });

  describe.each(fixtureNames)('%s', (name) => {
    const text = readFileSync(join(fixtures, name), 'utf8');

    it('parse then emit gives the same bytes', () => {
      expect(emit(parse(text))).toBe(text);
    });

    it('encrypts in place and decrypts back to the same text (but for listed normalisations)', () => {
      const original = parse(text);
      const file = parse(text);
      encryptInPlace(file);
      const encrypted = emit(file);
      // Same number of lines before each sops block but for block scalars (they become one line): every comment line is #ENC.
      for (const line of encrypted.split('\n')) {
        if (/^\s*#/.test(line)) expect(line).toMatch(/^\s*#ENC\[AES256_GCM,.*type:comment\]$/);
      }
      expect(encrypted.split(/^sops:$/m).length - 1).toBe(original.documents.length);
      const again = parse(encrypted);
      expect(toPlain(again.metadata!)).toEqual(toPlain(metadata()));
      for (const leaf of docLeaves(again)) {
        if (leaf.kind === 'comment') expect(leaf.text).toMatch(/^ENC\[/);
        else if (leaf.type !== 'null') expect(leaf.value).toMatch(/^ENC\[AES256_GCM,/);
      }
      expect(emit(again)).toBe(encrypted);
      decryptInPlace(again, original);
      let expected = text;
      for (const [from, to] of normalised[name]!) {
        expect(expected).toContain(from);
        expected = expected.replace(from, to);
      }
      expect(emit(again)).toBe(expected);
      // And what was written reads back as the original values.
      expect(parse(emit(again)).documents.map((d) => toPlain(d))).toEqual(original.documents.map((d) => toPlain(d)));
    });
  });
});

/** Parse, change the first scalar named `key` via `change`, emit. */
function edit(text: string, change: (file: ParsedFile) => void): string {
  const file = parse(text);
  change(file);
  return emit(file);
}
function setScalar(file: ParsedFile, path: string[], type: Scalar['type'], value: Scalar['value']): void {
  let node: Node = file.documents[0]!;
  for (const key of path) node = node.kind === 'map' ? getEntry(node, key)!.value : (node as ListNode).items.filter((i): i is Node => i.kind !== 'comment')[Number(key)]!;
  const s = node as Scalar;
  s.type = type;
  s.value = value;
}

describe('splicing changed values', () => {
  const E = 'ENC[AES256_GCM,data:eA==,iv:aXY=,tag:dA==,type:str]';

  it('block scalars become one ENC line and come back as blocks at the key indentation plus one step', () => {
    const text = 'a:\n  text: |\n    one\n    two\n  strip: |-\n    x\n    y\n  keep: |+\n    y\n\n  after: 1\n';
    const file = parse(text);
    for (const k of ['text', 'strip', 'keep']) setScalar(file, ['a', k], 'str', E);
    const encrypted = emit(file);
    expect(encrypted).toBe(`a:\n  text: ${E}\n  strip: ${E}\n  keep: ${E}\n  after: 1\n`);
    const back = edit(encrypted, (f) => {
      setScalar(f, ['a', 'text'], 'str', 'one\ntwo\n');
      setScalar(f, ['a', 'strip'], 'str', 'x\ny');
      setScalar(f, ['a', 'keep'], 'str', 'y\n\n');
    });
    expect(back).toBe(text);
  });

  it('keeps a changed block scalar\'s own indentation and header comment', () => {
    expect(edit('k: | # note\n      deep\nz: 1\n', (f) => setScalar(f, ['k'], 'str', 'new\ntext\n'))).toBe('k: | # note\n      new\n      text\nz: 1\n');
    expect(edit('k: ENC # note\n', (f) => setScalar(f, ['k'], 'str', 'a\nb'))).toBe('k: |- # note\n    a\n    b\n');
  });

  it('uses an indentation indicator for text starting with a space; double quotes in flow context or where a block would swallow the next line', () => {
    expect(edit('k: x\n', (f) => setScalar(f, ['k'], 'str', ' lead\nx\n'))).toBe('k: |4\n     lead\n    x\n');
    expect(edit('m: {k: x}\n', (f) => setScalar(f, ['m', 'k'], 'str', 'a\nb'))).toBe('m: {k: "a\\nb"}\n');
    expect(edit('k: x\n    # deeper comment\n', (f) => setScalar(f, ['k'], 'str', 'a\nb'))).toBe('k: "a\\nb"\n    # deeper comment\n');
    expect(edit('k: x\n\nz: 1\n', (f) => setScalar(f, ['k'], 'str', 'a\n\n'))).toBe('k: "a\\n\\n"\n\nz: 1\n');
  });

  it('renders each type so that it reads back the same', () => {
    const text = 'a: x\nb: x\nc: x\nd: x\ne: x\nf: x\ng: x\nh: x\ni: x\nj: [x, y]\n';
    const out = edit(text, (f) => {
      setScalar(f, ['a'], 'str', 'true');
      setScalar(f, ['b'], 'str', '');
      setScalar(f, ['c'], 'int', 42n);
      setScalar(f, ['d'], 'float', 1);
      setScalar(f, ['e'], 'float', -Infinity);
      setScalar(f, ['f'], 'bool', false);
      setScalar(f, ['g'], 'time', '2024-01-01T00:00:00Z');
      setScalar(f, ['h'], 'bytes', new Uint8Array([104, 105]));
      setScalar(f, ['i'], 'str', 'a # b');
      setScalar(f, ['j', '1'], 'str', E);
    });
    expect(out).toBe(`a: "true"\nb: ""\nc: 42\nd: 1.0\ne: -.inf\nf: false\ng: 2024-01-01T00:00:00Z\nh: !!binary aGk=\ni: 'a # b'\nj: [x, '${E}']\n`);
    expect(parse(out).documents[0]!.items.map((i) => (i.kind === 'entry' && i.value.kind === 'scalar' ? i.value.type : 'list'))).toEqual(['str', 'str', 'int', 'float', 'float', 'bool', 'time', 'bytes', 'str', 'list']);
  });

  it('drops a core tag that would contradict the new value, keeps custom tags', () => {
    expect(edit('a: !!int 5\nb: !Ref name\n', (f) => {
      setScalar(f, ['a'], 'str', E);
      setScalar(f, ['b'], 'str', E);
    })).toBe(`a: ${E}\nb: !Ref ${E}\n`);
  });

  it('fills empty values', () => {
    expect(edit('a:\nl:\n  -\n', (f) => {
      setScalar(f, ['a'], 'str', 'x\ny\n');
      setScalar(f, ['l', '0'], 'int', 1n);
    })).toBe('a: |\n  x\n  y\nl:\n  - 1\n');
  });

  it('rewrites changed comments in place, inline ones too', () => {
    const text = '# top\na: 1 # why\nl:\n  # in list\n  - x\n';
    const out = edit(text, (f) => {
      for (const leaf of docLeaves(f)) if (leaf.kind === 'comment') leaf.text = leaf.text.toUpperCase();
    });
    expect(out).toBe('# TOP\na: 1 # WHY\nl:\n  # IN LIST\n  - x\n');
  });

  it('turns sops `- ENC[...,type:comment]` list elements back into comment lines', () => {
    const c = 'ENC[AES256_GCM,data:eA==,iv:aXY=,tag:dA==,type:comment]';
    const out = edit(`l:\n    - ${c}\n    - x\n`, (f) => {
      for (const leaf of docLeaves(f)) if (leaf.kind === 'comment') leaf.text = ' hello';
    });
    expect(out).toBe('l:\n    # hello\n    - x\n');
    expect(bare(parse(out).documents[0])).toEqual(bare({ kind: 'map', items: [{ kind: 'entry', key: 'l', value: { kind: 'list', items: [{ kind: 'comment', text: ' hello' }, { kind: 'scalar', type: 'str', value: 'x' }] } }] }));
  });
});

function bare(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (k, v) => (k === 'origin' ? undefined : typeof v === 'bigint' ? `${v}n` : v)));
}

describe('the sops block in layout mode', () => {
  it('is appended to every document, on its own line even without a final newline', () => {
    const file = parse('a: 1 # c\n---\nb: 2');
    file.metadata = metadata();
    const out = emit(file);
    const block = emit({ format: 'json', documents: [], metadata: metadata() });
    expect(out).toBe(`a: 1 # c\n${block}---\nb: 2\n${block}`);
  });

  it('is replaced where it stood, and removed with exactly its lines', () => {
    const text = 'a: 1\nsops:\n    version: 3.0.0\n    lastmodified: "2020-01-01T00:00:00Z"\n# after\nb: 2\n';
    const file = parse(text);
    expect(emit(file)).toBe(text);
    file.metadata = metadata();
    expect(emit(file)).toBe(`a: 1\n${emit({ format: 'json', documents: [], metadata: metadata() })}# after\nb: 2\n`);
    file.metadata = undefined;
    expect(emit(file)).toBe('a: 1\n# after\nb: 2\n');
  });

  it.skipIf(!HAS_INTEROP)('sops-written samples decrypt to their plaintext layout', () => {
    const file = yamlFormat.parse(Buffer.from(interop('sops-repo/comments.enc.yaml')));
    const plain = [' first comment in file', 'ipsum', ' this-is-a-comment', 'sit'];
    docLeaves(file).forEach((leaf, i) => {
      if (leaf.kind === 'comment') leaf.text = plain[i]!;
      else leaf.value = plain[i]!;
    });
    file.metadata = undefined;
    // The plaintext sample has no final newline; sops's output has one.
    expect(emit(file)).toBe(interop('sops-repo/comments.yaml') + '\n');
  });

  it('keeps CRLF line endings, in new block scalars and the sops block too', () => {
    const text = 'a: 1\r\n# c\r\nb: x\r\n';
    const file = parse(text);
    expect(emit(file)).toBe(text);
    setScalar(file, ['b'], 'str', 'l1\nl2\n');
    file.metadata = { kind: 'map', items: [{ kind: 'entry', key: 'version', value: { kind: 'scalar', type: 'str', value: '3.13.2' } }] };
    // No nesting shows the file's step: new blocks use sops's 4.
    expect(emit(file)).toBe('a: 1\r\n# c\r\nb: |\r\n    l1\r\n    l2\r\nsops:\r\n    version: 3.13.2\r\n');
    expect(toPlain(parse('a: |\r\n  x\r\n  y\r\n').documents[0]!)).toEqual({ a: 'x\ny\n' });
  });

  it('writes a flow-mapping root canonically when a sops block must follow it', () => {
    const file = parse('{a: 1}\n');
    file.metadata = { kind: 'map', items: [{ kind: 'entry', key: 'version', value: { kind: 'scalar', type: 'str', value: '3.13.2' } }] };
    expect(emit(file)).toBe('a: 1\nsops:\n    version: 3.13.2\n');
  });
});

describe('falling back to the canonical layout', () => {
  it('a document with an added or removed entry is rewritten; other documents keep their bytes', () => {
    const text = 'a:   1   # spaced\n---\nb:  2\nc:  3\n';
    const added = parse(text);
    added.documents[1]!.items.push({ kind: 'entry', key: 'd', value: { kind: 'scalar', type: 'int', value: 4n } });
    expect(emit(added)).toBe('a:   1   # spaced\n---\nb: 2\nc: 3\nd: 4\n');
    const removed = parse(text);
    removed.documents[1]!.items.pop();
    expect(emit(removed)).toBe('a:   1   # spaced\n---\nb: 2\n');
  });

  it('moved or renamed entries are rewritten, with the file\'s own indentation step', () => {
    const moved = parse('a:\n  p: 1\n  q: 2\n');
    const inner = (moved.documents[0]!.items[0] as { value: MapNode }).value;
    inner.items.reverse();
    expect(emit(moved)).toBe('a:\n  q: 2\n  p: 1\n');
    const renamed = parse('a:   1\n');
    (renamed.documents[0]!.items[0] as { key: string }).key = 'b';
    expect(emit(renamed)).toBe('b: 1\n');
    expect(emit(parse('a:\n  - {b: 1}\n'), 4)).toBe('a:\n  - {b: 1}\n');
  });

  it('a document with expanded aliases is written canonically (no anchors); the others are spliced', () => {
    const file = parse('x:    1\n---\nbase: &b {k: v}\ncopy: *b\n');
    expect(emit(file)).toBe('x:    1\n---\nbase:\n    k: v\ncopy:\n    k: v\n');
  });

  it('a tree from another format is written canonically', () => {
    const file = parse('a:   1\n');
    expect(emit({ ...file, format: 'json' })).toBe('a: 1\n');
  });
});

describe('plaintext stays in temp dirs only', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsops-yaml-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('a file written and read back through the format keeps its bytes', () => {
    const path = join(dir, 'f.yaml');
    const text = readFileSync(join(fixtures, 'helm-values.yaml'), 'utf8');
    writeFileSync(path, yamlFormat.emit(yamlFormat.parse(readFileSync(join(fixtures, 'helm-values.yaml')))));
    expect(readFileSync(path, 'utf8')).toBe(text);
  });
});

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EmitError, InputError } from '../../src/errors.js';
import { dotenvFormat, formatDotenvValue } from '../../src/formats/dotenv.js';
import { comment, list, map, scalar, str, toPlain, type MapNode, type ParsedFile, type Scalar } from '../../src/tree.js';
import { errorOf, expectCleanError } from '../support/errors.js';
import { HAS_INTEROP, interopPath } from '../support/interop.js';
import dotenv from 'dotenv';
import dotenvx from '@dotenvx/dotenvx';

const interop = (path: string): Buffer => readFileSync(interopPath(path));
const parse = (text: string): ParsedFile => dotenvFormat.parse(Buffer.from(text, 'utf8'));
const emit = (file: ParsedFile): string => Buffer.from(dotenvFormat.emit(file)).toString('utf8');
const values = (file: ParsedFile): unknown => toPlain(file.documents[0]!);
const entryPairs = (file: ParsedFile): [string, unknown][] =>
  file.documents[0]!.items.flatMap((i) => (i.kind === 'entry' ? [[i.key, toPlain(i.value)] as [string, unknown]] : []));


const METADATA = map([
  ['lastmodified', str('2024-01-01T00:00:00Z')],
  ['mac', str('ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]')],
  ['age', list([map([['recipient', str('age1xyz')], ['enc', str('-----BEGIN AGE ENCRYPTED FILE-----\nabc\n-----END AGE ENCRYPTED FILE-----\n')]])])],
  ['version', str('3.13.2')],
]);

/** Stand-in for the document layer: values and comment texts become ENC strings, or back again. */
function fakeEncrypt(file: ParsedFile): void {
  for (const item of file.documents[0]!.items) {
    if (item.kind === 'comment') {
      if (item.text !== '') item.text = `ENC[AES256_GCM,data:${Buffer.from(item.text).toString('base64')},iv:aXY=,tag:dGFn,type:comment]`;
    } else if (item.value.kind === 'scalar' && item.value.value !== '') {
      item.value.value = `ENC[AES256_GCM,data:${Buffer.from(String(item.value.value)).toString('base64')},iv:aXY=,tag:dGFn,type:str]`;
    }
  }
  file.metadata = structuredClone(METADATA);
}

function fakeDecrypt(file: ParsedFile): void {
  const plain = (text: string): string => {
    const m = /^ENC\[AES256_GCM,data:([^,]*),/.exec(text);
    if (!m) throw new Error('not an ENC string');
    return Buffer.from(m[1]!, 'base64').toString('utf8');
  };
  for (const item of file.documents[0]!.items) {
    if (item.kind === 'comment') {
      if (item.text !== '') item.text = plain(item.text);
    } else if (item.value.kind === 'scalar' && item.value.value !== '') {
      item.value.value = plain(String(item.value.value));
    }
  }
  expect(file.metadata).toBeDefined();
  file.metadata = undefined;
}

describe('dotenv: sops-written files', () => {
  it.skipIf(!HAS_INTEROP)('reads format.enc.env exactly as sops does (key with a trailing space) and writes it back unchanged', () => {
    const bytes = interop('sops-repo/format.enc.env');
    const file = dotenvFormat.parse(bytes);
    expect(entryPairs(file)).toEqual([['foo ', expect.stringMatching(/^ENC\[AES256_GCM,data:XBV7lQ==,.*type:str\]$/)]]);
    const meta = toPlain(file.metadata!) as Record<string, unknown>;
    expect(Object.keys(meta).sort()).toEqual(['lastmodified', 'mac', 'pgp', 'unencrypted_suffix', 'version']);
    expect(meta['version']).toBe('3.13.1');
    const pgp = meta['pgp'] as Record<string, string>[];
    expect(pgp).toHaveLength(1);
    expect(pgp[0]!['fp']).toBe('FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4');
    expect(pgp[0]!['created_at']).toBe('2026-05-22T20:15:26Z');
    expect(pgp[0]!['enc']).toMatch(/^-----BEGIN PGP MESSAGE-----\n\nwcBMA[^\\]*\n-----END PGP MESSAGE-----$/);
    expect(Buffer.from(dotenvFormat.emit(file)).equals(bytes)).toBe(true);
  });

  it.skipIf(!HAS_INTEROP)('reads the sops-age sample: two values and three age recipients', () => {
    const bytes = interop('sops-age-repo/secret.enc.env');
    const file = dotenvFormat.parse(bytes);
    expect(entryPairs(file).map(([k]) => k)).toEqual(['secret', 'another_secret']);
    const meta = toPlain(file.metadata!) as { age: { recipient: string; enc: string }[]; version: string };
    expect(meta.version).toBe('3.8.1');
    expect(meta.age.map((a) => a.recipient)).toEqual([
      'age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr',
      'age19j4d6v9j7rx5fs629fu387qz4zmlpsqjexa4s08tkfrrmfdl5cwqjlaupd',
      'age13runq29jhy9kfpaegczrzttykerswh0qprq59msgd754yermtfmsa3hwg2',
    ]);
    for (const a of meta.age) expect(a.enc).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----\n[\s\S]*\n-----END AGE ENCRYPTED FILE-----\n$/);
    expect(Buffer.from(dotenvFormat.emit(file)).equals(bytes)).toBe(true);
  });

  it.skipIf(!HAS_INTEROP)('writes the decrypted interop value quoted, so dotenv keeps its leading space', () => {
    const file = dotenvFormat.parse(interop('sops-repo/format.enc.env'));
    (file.documents[0]!.items[0] as { value: Scalar }).value.value = ' bar';
    file.metadata = undefined;
    expect(emit(file)).toBe("foo =' bar'\n");
    expect(dotenv.parse(emit(file))).toEqual({ foo: ' bar' });
  });
});

describe('dotenv: reading a file with metadata (sops rules)', () => {
  const withMeta = (body: string): ParsedFile => parse(`${body}sops_version=3.13.2\n`);

  it('trims nothing, keeps quotes and "export", splits on the first "=" and keeps a carriage return', () => {
    const file = withMeta('export A=b\nB = "x" \nC==d\r\nD=\n');
    expect(entryPairs(file)).toEqual([
      ['export A', 'b'],
      ['B ', ' "x" '],
      ['C', '=d\r'],
      ['D', ''],
    ]);
  });

  it('turns every backslash-n into a newline and nothing else', () => {
    expect(entryPairs(withMeta('A=x\\ny\\\\n\\t\n'))).toEqual([['A', 'x\ny\\\n\\t']]);
  });

  it('takes comments only from a "#" in the first byte', () => {
    const file = withMeta('# one\n#two\n');
    expect(file.documents[0]!.items).toMatchObject([
      { kind: 'comment', text: ' one' },
      { kind: 'comment', text: 'two' },
    ]);
    expect(errorOf(() => withMeta('  # indented\n'))).toBeInstanceOf(InputError);
  });

  it('rejects a whitespace-only line, as sops does', () => {
    expect(errorOf(() => withMeta('A=1\n  \n')).message).toMatch(/line 2: expected KEY=VALUE/);
  });

  it('takes every sops_ line as metadata, wherever it is, and leaves it out of the document', () => {
    const file = parse('sops_mac=m\nA=1\nsops_pgp__list_0__map_fp=F\n');
    expect(values(file)).toEqual({ A: '1' });
    expect(toPlain(file.metadata!)).toEqual({ mac: 'm', pgp: [{ fp: 'F' }] });
  });

  it('accepts an empty key, as sops does', () => {
    expect(entryPairs(withMeta('=v\n'))).toEqual([['', 'v']]);
  });
});

describe('dotenv: reading plaintext as the dotenv package does', () => {
  it('understands export, spaces around the key, quotes and escapes', () => {
    const file = parse(
      [
        'export A=1',
        '  B  =two',
        "C='single $x \\n'",
        'D="tab\\tback\\\\nl\\ncr\\r"',
        'E="multi',
        'line" # trailing comment',
        'F=raw # a comment',
        'G=x\\ny',
        'H= spaced ',
        "I='unclosed",
        'J=',
        'K=""',
        'L=p#ss',
        "M='x # y'",
        'N=`back $tick`',
        "O='a' 'b'",
      ].join('\n') + '\n',
    );
    const expected: [string, string][] = [
      ['A', '1'],
      ['B', 'two'],
      ['C', 'single $x \\n'],
      ['D', 'tab\\tback\\\nl\ncr\r'],
      ['E', 'multi\nline'],
      ['F', 'raw'],
      ['G', 'x\\ny'],
      ['H', 'spaced'],
      ['I', "'unclosed"],
      ['J', ''],
      ['K', ''],
      ['L', 'p'],
      ['M', 'x # y'],
      ['N', 'back $tick'],
      ['O', "a' 'b"],
    ];
    expect(entryPairs(file)).toEqual(expected);
    expect(file.metadata).toBeUndefined();
  });

  it('reads CRLF files, spaces around "=", trailing comments and multi-line quotes as dotenv does', () => {
    const text = 'A = 1\r\nB=value # comment\r\nC="multi\r\nline"\r\nD=\'x\r\ny\'\r\nexport E=""\r\n';
    expect(Object.fromEntries(entryPairs(parse(text)))).toEqual(dotenv.parse(text));
    expect(entryPairs(parse(text)).map(([k]) => k)).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(emit(parse(text))).toBe(text);
  });

  it('keeps duplicate keys, comments (indented too) and blank lines', () => {
    const file = parse('A=1\n\n  # note\nA=2\n');
    expect(file.documents[0]!.items).toMatchObject([
      { kind: 'entry', key: 'A', value: { value: '1' } },
      { kind: 'comment', text: ' note' },
      { kind: 'entry', key: 'A', value: { value: '2' } },
    ]);
  });

  it('reads an unclosed or trailed quote as dotenv does: unquoted, up to the end of its line', () => {
    for (const text of ['A=1\nB="hunter2\nC=3\n', 'A="hunter2"x\n', 'A="x\nB="hunter2"\n', "A='x\\'\n"]) {
      expect(Object.fromEntries(entryPairs(parse(text)))).toEqual(dotenv.parse(text));
    }
  });

  it('names the line of each error and never the text', () => {
    const cases: [string, RegExp][] = [
      ['A=1\nhunter2\n', /line 2: expected KEY=VALUE/],
      ['A=1\n=hunter2\n', /line 2: empty key/],
      ['A=1\nB="\'`hunter2\n', /line 2: this value mixes quotes so that no dotenv quoting writes it back/],
    ];
    for (const [text, message] of cases) expectCleanError(() => dotenvFormat.parse(Buffer.from(text), { file: 'app.env' }), InputError, message, 'app.env');
  });

  it('reads an empty file as an empty document and writes it back empty', () => {
    const file = parse('');
    expect(file.documents[0]!.items).toEqual([]);
    expect(emit(file)).toBe('');
  });
});

describe('dotenv: writing', () => {
  it('writes untouched lines exactly as read, including quotes, export, whitespace lines and no final newline', () => {
    const text = '# head\n  # indented\nexport A="x y"\n\t\nB=\'lit\'\nC="multi\nline"\n\n\nD=raw';
    expect(emit(parse(text))).toBe(text);
  });

  it('rewrites a changed entry as KEY=VALUE, changed comments as #text, and keeps the rest', () => {
    const file = parse('# keep\nexport A="x"\n# old\nB=2\n');
    const [, a, c] = file.documents[0]!.items as [unknown, { value: Scalar }, { text: string }];
    a.value.value = 'new';
    c.text = ' new\nsecond';
    expect(emit(file)).toBe('# keep\nA=new\n# new\n#second\nB=2\n');
  });

  it('appends metadata after the data, after trailing blank lines, and drops it again', () => {
    const file = parse('A=1\n\n');
    file.metadata = METADATA;
    const encrypted = emit(file);
    expect(encrypted).toBe(
      'A=1\n\n' +
        'sops_age__list_0__map_enc=-----BEGIN AGE ENCRYPTED FILE-----\\nabc\\n-----END AGE ENCRYPTED FILE-----\\n\n' +
        'sops_age__list_0__map_recipient=age1xyz\n' +
        'sops_lastmodified=2024-01-01T00:00:00Z\n' +
        'sops_mac=ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]\n' +
        'sops_version=3.13.2\n',
    );
    const again = parse(encrypted);
    expect(toPlain(again.metadata!)).toEqual(toPlain(METADATA));
    again.metadata = map([['version', str('3.13.3')]]);
    expect(emit(again)).toBe('A=1\n\nsops_version=3.13.3\n');
    again.metadata = undefined;
    expect(emit(again)).toBe('A=1\n\n');
  });

  it('writes blank lines empty when metadata follows, since sops rejects whitespace-only lines', () => {
    const file = parse('A=1\n  \nB=2\n');
    file.metadata = map([['version', str('3.13.2')]]);
    expect(emit(file)).toBe('A=1\n\nB=2\nsops_version=3.13.2\n');
  });

  it('writes the canonical layout for a tree from another format', () => {
    const file: ParsedFile = {
      format: 'yaml',
      layout: { anything: true },
      documents: [{ kind: 'map', items: [comment(' c'), { kind: 'entry', key: 'A', value: str('x\ny'), origin: { raw: 'ignored' } }, { kind: 'entry', key: 'N', value: scalar('int', 5n) }] }],
      metadata: map([['version', str('3.13.2')]]),
    };
    expect(emit(file)).toBe('# c\nA=x\\ny\nN=5\nsops_version=3.13.2\n');
    file.metadata = undefined;
    expect(emit(file)).toBe("# c\nA='x\ny'\nN=5\n");
  });

  it('quotes plaintext values so that dotenv and dotenvx read them back unchanged', () => {
    const cases: [Scalar, string][] = [
      [str('plain'), 'plain'],
      [str(''), ''],
      [str('plain # value'), "'plain # value'"],
      [str('a\nb'), "'a\nb'"],
      [str(' spaced '), "' spaced '"],
      [str('"quoted"'), `'"quoted"'`],
      [str("'single'"), `"'single'"`],
      [str("it's\r\n"), `"it's\\r\\n"`],
      [str(`it's "home"`), "`it's \"home\"`"],
      [str('$x'), "'$x'"],
      [str('back\\slash'), "'back\\slash'"],
      [str('lit\\n'), "'lit\\n'"],
      [scalar('bool', true), 'true'],
      [scalar('bool', false), 'false'],
      [scalar('int', -12n), '-12'],
      [scalar('float', 5), '5.0'],
      [scalar('float', 1.5), '1.5'],
      [scalar('float', 1e21), '1E+21'],
      [scalar('time', '2024-01-01T00:00:00Z'), '2024-01-01T00:00:00Z'],
      [scalar('null', null), ''],
    ];
    for (const [node, text] of cases) expect([node.value, formatDotenvValue(node)]).toEqual([node.value, text]);
  });

  it('reads back every string it writes, as dotenv and dotenvx do, or refuses it', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', ' ', '\n', '\r', "'", '"', '`', '$', '\\', '#', '=', 'é', '{', 'n') }), (value) => {
        const file: ParsedFile = { format: 'json', documents: [map([['K', str(value)]])] };
        let text: string;
        try {
          text = emit(file);
        } catch (error) {
          expect(error).toBeInstanceOf(EmitError);
          expect(/\r/.test(value) || value.endsWith('\\') || (/'/.test(value) && /`/.test(value))).toBe(true);
          return;
        }
        expect(values(parse(text))).toEqual({ K: value });
        expect(dotenv.parse(text)).toEqual({ K: value });
        // dotenvx expands `$` and reads backslash escapes everywhere but in single quotes, which cannot hold a quote or a carriage return.
        if (!/[$\\]/.test(value) || text.startsWith("K='")) expect(dotenvx.parse(text, { processEnv: {} })).toEqual({ K: value });
      }),
      { numRuns: 500 },
    );
  });

  it('refuses, naming the key, a value no quoting carries through both readers', () => {
    const file: ParsedFile = { format: 'json', documents: [map([['K', str(`'"\`\r`)]])] };
    expectCleanError(() => emit(file), EmitError, /no dotenv quoting keeps this value as it is \(key "K"\)/);
  });

  it('refuses trees it cannot hold, naming the key', () => {
    const cases: [MapNode, RegExp][] = [
      [map([['db', map([['password', str('hunter2')]])]]), /dotenv cannot hold nested values \(key "db"\)/],
      [map([['l', list([str('hunter2')])]]), /nested values \(key "l"\)/],
      [map([['a=b', str('hunter2')]]), /cannot contain '=' or a newline/],
      [map([['a\nb', str('hunter2')]]), /cannot contain '=' or a newline/],
      [map([['#a', str('hunter2')]]), /cannot start with '#'/],
      [map([['', str('hunter2')]]), /empty key/],
    ];
    for (const [doc, message] of cases) expectCleanError(() => dotenvFormat.emit({ format: 'yaml', documents: [doc] }), EmitError, message);
    expect(errorOf(() => dotenvFormat.emit({ format: 'yaml', documents: [map(), map()] }))).toBeInstanceOf(EmitError);
    expect(errorOf(() => formatDotenvValue(map()))).toBeInstanceOf(EmitError);
  });

  it('refuses a data key that would read back as metadata, but only when metadata is written', () => {
    const file: ParsedFile = { format: 'yaml', documents: [map([['sops_token', str('x')]])] };
    expect(emit(file)).toBe('sops_token=x\n');
    file.metadata = map([['version', str('3.13.2')]]);
    expect(errorOf(() => emit(file)).message).toMatch(/would be read back as sops metadata/);
  });
});

/**
 * dotenv files from a grammar: entries with `export`, spaces around `=`,
 * unquoted values with trailing comments, single/double/back-quoted values
 * that may span lines and hold escapes, comment and blank lines, LF or CRLF.
 */
const dotenvKey = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,8}$/).filter((k) => !k.startsWith('sops_'));
const spaces = fc.constantFrom('', ' ', '  ', '\t');
const valueChar = (excluded: string): fc.Arbitrary<string> =>
  fc.constantFrom('a', 'Z', '0', ' ', '=', '$', '{', '}', '\\', '\\n', '"', "'", '`', '#', 'é', '🗝', '\n').filter((c) => !excluded.includes(c));
// A quoted value ending in a backslash is left out: tsops refuses to write one back, as no quoting keeps it in every file.
const quoted = (quote: string): fc.Arbitrary<string> =>
  fc
    .string({ unit: valueChar(quote), maxLength: 16 })
    .filter((body) => !body.endsWith('\\'))
    .map((body) => `${quote}${body}${quote}`);
const unquoted = fc.string({ unit: valueChar('#\n'), maxLength: 16 });
const trailer = fc.oneof(fc.constant(''), fc.string({ unit: valueChar('\n'), maxLength: 8 }).map((c) => ` #${c}`));
const entryLine = fc
  .tuple(spaces, fc.boolean(), dotenvKey, spaces, spaces, fc.oneof(unquoted, quoted("'"), quoted('"'), quoted('`')), spaces, trailer)
  .map(([indent, exported, key, before, after, value, end, comment]) => `${indent}${exported ? 'export ' : ''}${key}${before}=${after}${value}${end}${comment}`);
const dotenvLine = fc.oneof(
  { weight: 4, arbitrary: entryLine },
  { weight: 1, arbitrary: fc.tuple(spaces, fc.string({ unit: valueChar('\n'), maxLength: 12 })).map(([indent, text]) => `${indent}#${text}`) },
  { weight: 1, arbitrary: spaces },
);
const dotenvFile = fc
  .tuple(fc.array(dotenvLine, { maxLength: 8 }), fc.constantFrom('\n', '\r\n'), fc.boolean())
  .map(([lines, eol, finalNewline]) => lines.join(eol) + (finalNewline && lines.length > 0 ? eol : ''));

/** The entries under names dotenv reads (it skips a line whose key holds other characters; tsops keeps it). */
const dotenvNamed = (pairs: [string, unknown][]): Record<string, unknown> => Object.fromEntries(pairs.filter(([k]) => /^[\w.-]+$/.test(k)));

/** The parsed file, or the property skips a generated text that `encrypt` refuses (a line dotenv would skip). */
function readAccepted(plaintext: string): ParsedFile {
  try {
    return parse(plaintext);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/expected KEY=VALUE|empty key|no dotenv quoting writes it back/);
    fc.pre(false);
    throw error;
  }
}

/** Lines sops's dotenv store reads as this data: `#comment`, `KEY=` or `KEY=ENC[...]`, and metadata. */
function expectSopsShaped(encrypted: string): void {
  for (const line of encrypted.split('\n').slice(0, -1)) expect(line).toMatch(/^(?:|#.*|[^=#\n][^=\n]*=(?:ENC\[[^\]]*\]|)|sops_[^=]+=.*)$/);
}

describe('dotenv: every plaintext encrypt accepts decrypts to the data dotenv reads from it', () => {
  it('for files generated from the dotenv grammar', () => {
    fc.assert(
      fc.property(dotenvFile, (plaintext) => {
        const file = readAccepted(plaintext);
        expect(dotenvNamed(entryPairs(file))).toEqual(dotenv.parse(plaintext));
        fakeEncrypt(file);
        const encrypted = emit(file);
        expectSopsShaped(encrypted);
        const reread = parse(encrypted);
        expect(reread.metadata).toBeDefined();
        fakeDecrypt(reread);
        const decrypted = emit(reread);
        expect(dotenv.parse(decrypted)).toEqual(dotenv.parse(plaintext));
        expect(dotenvNamed(entryPairs(parse(decrypted)))).toEqual(dotenv.parse(plaintext));
      }),
      { numRuns: 600 },
    );
  });

  it('and a file untouched by encryption is written back byte for byte', () => {
    fc.assert(
      fc.property(dotenvFile, (plaintext) => {
        // A file mixing LF and CRLF is written back LF.
        fc.pre(!(plaintext.includes('\r\n') && /(?<!\r)\n/.test(plaintext)));
        expect(emit(readAccepted(plaintext))).toBe(plaintext);
      }),
      { numRuns: 300 },
    );
  });

  it('for files of KEY=VALUE lines, comments and blank lines in sops form: the same bytes', () => {
    const value = fc.string({ unit: valueChar('\n#"\'`\\ $'), maxLength: 20 }).filter((v) => !v.includes('\\n'));
    const line = fc.oneof(
      fc.tuple(dotenvKey, value).map(([k, v]) => `${k}=${v}`),
      fc.string({ unit: 'grapheme', maxLength: 20 }).filter((t) => !t.includes('\n') && !t.includes('\r')).map((t) => `#${t}`),
      fc.constant(''),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
        const plaintext = lines.join('\n') + '\n';
        const file = parse(plaintext);
        fakeEncrypt(file);
        const reread = parse(emit(file));
        fakeDecrypt(reread);
        expect(emit(reread)).toBe(plaintext);
      }),
      { numRuns: 300 },
    );
  });
});

const FIXTURES = new URL('./dotenv-fixtures/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');

describe('dotenv: through the real document layer', async () => {
  const { throwawayAgeKey, encryptText, decryptText } = await import('../support/pipeline.js');
  const { decryptSops } = await import('sops-age');
  const key = await throwawayAgeKey();

  it('encrypts to a sops-shaped file and decrypts to the same bytes', async () => {
    const plaintext = '# db\nDB_USER=admin\n\nPORT=5432\nEMPTY=\n';
    const encrypted = await encryptText('dotenv', plaintext, key.recipient);
    expect(encrypted).toMatch(/^#ENC\[AES256_GCM,.*type:comment\]\nDB_USER=ENC\[AES256_GCM,/);
    expect(encrypted).toMatch(/\nsops_age__list_0__map_recipient=age1[0-9a-z]+\n/);
    expect(encrypted).not.toContain('admin');
    expect(await decryptText('dotenv', encrypted, key.identity)).toBe(plaintext);
  });

  const cases: [string, Record<string, string>][] = [
    ['empty-quoted.env', { EMPTY: '', EXPORTED: '', AFTER: 'kept' }],
    ['crlf-multiline.env', { FIRST: '1', NOTE: 'line one\nline two', LAST: 'spaced value' }],
    ['pem-escaped.env', { PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nMIIBVgIBADANBgkqhkiG9w0BAQEFAASC\nAT8wggE7AgEAAkEA0Z3VS5JJcds3xfn\n-----END PRIVATE KEY-----\n', NAME: 'svc' }],
    ['single-quoted-multiline.env', { A: 'x\ny', B: 'after' }],
    ['single-quoted-hash.env', { A: 'x # y', PRICE: '$5 # not a comment', TEMPLATE: '${HOME}/bin', PLAIN: 'value' }],
    ['mixed.env', { URL: 'postgres://u:p@h/db?a=b', QUOTE: `say "hi"`, APOS: "it's", BOTH: `it's "quoted"`, UNICODE: 'ünïcödé ✓ 🗝', SPACES: '  padded  ' }],
  ];

  for (const [name, data] of cases) {
    it(`${name}: encrypts so sops's grammar and sops-age read it, decrypts to what dotenv and dotenvx read`, async () => {
      const plaintext = fixture(name);
      expect(dotenv.parse(plaintext)).toEqual(data);
      const encrypted = await encryptText('dotenv', plaintext, key.recipient);
      expectSopsShaped(encrypted);
      expect(await decryptSops(encrypted, { secretKey: key.identity, fileType: 'env' })).toEqual(data);
      const decrypted = await decryptText('dotenv', encrypted, key.identity);
      expect(dotenv.parse(decrypted)).toEqual(data);
      expect(dotenvx.parse(decrypted, { processEnv: {} })).toEqual(data);
    });
  }
});

import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EmitError, InputError } from '../../src/errors.js';
import { iniFormat } from '../../src/formats/ini.js';
import { comment, list, map, scalar, str, toPlain, type Comment, type Entry, type MapNode, type Node, type ParsedFile } from '../../src/tree.js';
import { errorOf, expectCleanError } from '../support/errors.js';
import { HAS_INTEROP, interopPath } from '../support/interop.js';

const interop = (path: string): Buffer => readFileSync(interopPath(path));
const parse = (text: string): ParsedFile => iniFormat.parse(Buffer.from(text, 'utf8'));
const emit = (file: ParsedFile): string => Buffer.from(iniFormat.emit(file)).toString('utf8');
const emitDoc = (doc: MapNode, metadata?: MapNode): string => emit({ format: 'ini', documents: [doc], ...(metadata ? { metadata } : {}) });
const sections = (file: ParsedFile): unknown => toPlain(file.documents[0]!);

/** The section items as [key, value] pairs and comment texts, in order. */
const itemsOf = (file: ParsedFile, section: string): unknown[] => {
  const entry = file.documents[0]!.items.find((i): i is Entry => i.kind === 'entry' && i.key === section);
  return (entry!.value as MapNode).items.map((i) => (i.kind === 'comment' ? { comment: i.text } : [i.key, toPlain(i.value)]));
};


/** Stand-in for decryption: every ENC value and comment becomes a given plaintext. */
function replaceLeaves(doc: MapNode, plain: (path: string) => string): void {
  for (const section of doc.items) {
    if (section.kind !== 'entry' || section.value.kind !== 'map') continue;
    let n = 0;
    for (const item of section.value.items) {
      if (item.kind === 'comment') item.text = plain(`${section.key}:#${n++}`);
      else if (item.value.kind === 'scalar' && String(item.value.value).startsWith('ENC[')) item.value.value = plain(`${section.key}:${item.key}`);
    }
  }
}

describe('INI: sops-written files', () => {
  it.skipIf(!HAS_INTEROP)('reads format.enc.ini (3.13.2, literal \\n metadata) and writes it back byte for byte', () => {
    const bytes = interop('sops-repo/format.enc.ini');
    const file = iniFormat.parse(bytes);
    expect(sections(file)).toEqual({ DEFAULT: {}, foo: { bar: expect.stringMatching(/^ENC\[AES256_GCM,data:Upwq,.*type:str\]$/) } });
    expect(file.documents[0]!.items[0]).toMatchObject({ key: 'DEFAULT' });
    const meta = toPlain(file.metadata!) as { pgp: Record<string, string>[]; version: string };
    expect(meta.version).toBe('3.13.2');
    expect(meta.pgp).toHaveLength(1);
    expect(Object.keys(meta.pgp[0]!).sort()).toEqual(['created_at', 'enc', 'fp']);
    expect(meta.pgp[0]!['enc']).toMatch(/^-----BEGIN PGP MESSAGE-----\n\nwcBMA[^\\]*\n=Axgz\n-----END PGP MESSAGE-----$/);
    expect(Buffer.from(iniFormat.emit(file)).equals(bytes)).toBe(true);
  });

  it.skipIf(!HAS_INTEROP)('reads format-2.enc.ini (3.13.1, """-quoted metadata) to the same shape', () => {
    const file = iniFormat.parse(interop('sops-repo/format-2.enc.ini'));
    const meta = toPlain(file.metadata!) as { pgp: Record<string, string>[]; version: string; unencrypted_suffix: string };
    expect(meta.version).toBe('3.13.1');
    expect(meta.unencrypted_suffix).toBe('_unencrypted');
    expect(meta.pgp[0]!['fp']).toBe('FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4');
    expect(meta.pgp[0]!['enc']).toMatch(/^-----BEGIN PGP MESSAGE-----\n\nwcBMA[\s\S]*\n=j3Rn\n-----END PGP MESSAGE-----$/);
    expect(sections(file)).toEqual({ DEFAULT: {}, foo: { bar: expect.stringMatching(/^ENC\[AES256_GCM,data:sYUq,/) } });
  });

  it.skipIf(!HAS_INTEROP)('writes the decrypted format samples as sops prints them', () => {
    for (const name of ['format.enc.ini', 'format-2.enc.ini']) {
      const file = iniFormat.parse(interop(`sops-repo/${name}`));
      replaceLeaves(file.documents[0]!, () => 'baz');
      file.metadata = undefined;
      expect(emit(file)).toBe('[foo]\nbar = baz\n');
    }
  });

  it.skipIf(!HAS_INTEROP)('reads example.ini (3.5.0): a section comment first, unordered metadata with two PGP keys', () => {
    const file = iniFormat.parse(interop('sops-repo/example.ini'));
    const doc = file.documents[0]!;
    expect(doc.items.map((i) => (i.kind === 'entry' ? i.key : '#'))).toEqual(['DEFAULT', 'name', 'address', 'phoneNumbers', 'not private']);
    const name = itemsOf(file, 'name');
    expect(name[0]).toEqual({ comment: expect.stringMatching(/^ENC\[AES256_GCM,.*type:comment\]$/) });
    expect(name.slice(1).map((i) => (i as [string])[0])).toEqual(['firstName', 'lastName', 'age']);
    expect(itemsOf(file, 'not private')).toEqual([['notsecret_unencrypted', 'hi there!']]);
    const meta = toPlain(file.metadata!) as { pgp: Record<string, string>[] };
    expect(meta.pgp.map((p) => p['fp'])).toEqual(['FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4', 'D7229043384BCC60326C6FB9D8720D957C3D3074']);
    expect(meta.pgp[1]!['enc']).toMatch(/^-----BEGIN PGP MESSAGE-----\n\n[\s\S]*-----END PGP MESSAGE-----$/);

    replaceLeaves(doc, (path) => (path === 'name:#0' ? 'the person' : `v-${path.split(':')[1]}`));
    file.metadata = undefined;
    expect(emit(file)).toBe(
      [
        '; the person',
        '[name]',
        'firstName = v-firstName',
        'lastName  = v-lastName',
        'age       = v-age',
        '',
        '[address]',
        'city          = v-city',
        'postalCode    = v-postalCode',
        'state         = v-state',
        'streetAddress = v-streetAddress',
        '',
        '[phoneNumbers]',
        'home   = v-home',
        'office = v-office',
        '',
        '[not private]',
        'notsecret_unencrypted = hi there!',
        '',
      ].join('\n'),
    );
  });
});

describe('INI: reading (go-ini rules)', () => {
  it('puts keys before any header in DEFAULT, first, and always has a DEFAULT', () => {
    expect(sections(parse('a = 1\n[s]\nb = 2\n'))).toEqual({ DEFAULT: { a: '1' }, s: { b: '2' } });
    expect(sections(parse(''))).toEqual({ DEFAULT: {} });
  });

  it('splits on the first = or :, trims, and strips matching quotes', () => {
    const file = parse(
      ['[s]', 'a=1', ' b : two ', "c = 'x'", 'd = "y z"', 'e = "a"b"', 'f = url=http://x', 'g =', "h = 'mis\"", 'i = "a"  ; note'].join('\n'),
    );
    expect(toPlain((file.documents[0]!.items[1] as Entry).value)).toEqual({
      a: '1',
      b: 'two',
      c: 'x',
      d: 'y z',
      e: '"a"b"',
      f: 'url=http://x',
      g: '',
      h: '\'mis"',
      i: 'a',
    });
  });

  it('cuts an inline comment at any # or ; and stores it after the key', () => {
    const file = parse('[s]\na = x#y\nb = 1 ; one\nc = plain\n');
    expect(itemsOf(file, 's')).toEqual([['a', 'x'], { comment: 'y' }, ['b', '1'], { comment: 'one' }, ['c', 'plain']]);
  });

  it('stores the comment lines above a key after that key, joined, only the first line stripped', () => {
    const file = parse('[s]\n; first\n  # second\n;third\nk = v\n# inline too\nj = w # tail\n');
    expect(itemsOf(file, 's')).toEqual([['k', 'v'], { comment: 'first\n# second\n;third' }, ['j', 'w'], { comment: 'inline too\n# tail' }]);
  });

  it('strips every leading marker and space of the first line, as sops does', () => {
    expect(itemsOf(parse('[s]\n;; ;x\nk = v\n'), 's')).toEqual([['k', 'v'], { comment: 'x' }]);
    expect(itemsOf(parse('[s]\n# ;x\nk = v\n'), 's')).toEqual([['k', 'v'], { comment: ';x' }]);
  });

  it('makes comments before a header the section comment, first item; a comment at the end is lost', () => {
    const file = parse('; about s\n[s] # more\nk = v\n; lost\n');
    expect(itemsOf(file, 's')).toEqual([{ comment: 'about s\n# more' }, ['k', 'v']]);
  });

  it('keeps repeated sections apart and collapses repeated keys in place, last value and comment winning', () => {
    const file = parse('[s]\n; c1\na = 1\nb = 2\na = 3\n[t]\nx = 1\n[s]\na = 9\n');
    expect(file.documents[0]!.items.map((i) => (i as Entry).key)).toEqual(['DEFAULT', 's', 't', 's']);
    expect(itemsOf(file, 's')).toEqual([['a', '3'], ['b', '2']]);
    expect(toPlain((file.documents[0]!.items[3] as Entry).value)).toEqual({ a: '9' });
    const defaults = parse('[DEFAULT]\na = 1\n').documents[0]!.items as Entry[];
    expect(defaults.map((e) => [e.key, toPlain(e.value)])).toEqual([['DEFAULT', {}], ['DEFAULT', { a: '1' }]]);
  });

  it('reads """ and backtick quoted values over several lines, keeping their line breaks', () => {
    const file = parse('[s]\na = """one\n  two\nthree""" ; c\nb = `x#y;z`\nc = `multi\nline`\nd = """inline"""\ne = """\nstarts with a break"""\n');
    expect(itemsOf(file, 's')).toEqual([
      ['a', 'one\n  two\nthree'],
      { comment: 'c' },
      ['b', 'x#y;z'],
      ['c', 'multi\nline'],
      ['d', 'inline'],
      ['e', '\nstarts with a break'],
    ]);
  });

  it('joins continuation lines, trimmed, without looking for comments in them', () => {
    const file = parse('[s]\na = one \\\n   two\\\n three # x\nb = end\\\n\nc = 3\n');
    expect(itemsOf(file, 's')).toEqual([['a', 'one twothree # x'], ['b', 'end'], ['c', '3']]);
  });

  it('reads quoted key names, which may hold separators', () => {
    const file = parse('[s]\n`a=b` = 1\n"c:d" : 2\n"""e`f""" = 3\n');
    expect(toPlain((file.documents[0]!.items[1] as Entry).value)).toEqual({ 'a=b': '1', 'c:d': '2', 'e`f': '3' });
  });

  it('handles CRLF files and a byte-order mark', () => {
    expect(sections(parse('\uFEFF[s]\r\na = 1\r\nb = "x"\r\n'))).toEqual({ DEFAULT: {}, s: { a: '1', b: 'x' } });
  });

  it('reads a [sops] section as metadata, newlines from literal \\n, and leaves it out of the document', () => {
    const file = parse('[a]\nk = v\n[sops]\n; dropped\nversion = 3.13.2\nage__list_0__map_enc = x\\ny\\n\nage__list_0__map_recipient = age1\n');
    expect(sections(file)).toEqual({ DEFAULT: {}, a: { k: 'v' } });
    expect(toPlain(file.metadata!)).toEqual({ version: '3.13.2', age: [{ enc: 'x\ny\n', recipient: 'age1' }] });
    expect(parse('[a]\nk = v\n').metadata).toBeUndefined();
  });

  it('names the line of each error and never the text', () => {
    const cases: [string, RegExp][] = [
      ['[s]\nhunter2\n', /line 2: expected key = value/],
      ['[s\nk = hunter2\n', /line 1: unclosed section header/],
      ['[]\nk = hunter2\n', /line 1: empty section name/],
      ['[s]\n = hunter2\n', /line 2: empty key name/],
      ['[s]\n`k = hunter2\n', /line 2: missing closing key quote/],
      ['[s]\nk = """hunter2\nmore\n', /line 3: unterminated """ value/],
      ['[s]\nk = `hunter2', /line 2: unterminated ` value/],
    ];
    for (const [text, message] of cases) expectCleanError(() => iniFormat.parse(Buffer.from(text), { file: 'app.ini' }), InputError, message, 'app.ini');
  });
});

describe('INI: writing', () => {
  it('aligns = within each section by byte length, quoted keys included', () => {
    const doc = map([
      ['s', map([['a', str('1')], ['long_key', str('2')], ['k=v', str('3')]])],
      ['t', map([['é', str('1')], ['abc', str('2')]])],
    ]);
    expect(emitDoc(doc)).toBe('[s]\na        = 1\nlong_key = 2\n`k=v`    = 3\n\n[t]\né  = 1\nabc = 2\n');
  });

  it('quotes values the way go-ini does', () => {
    const doc = map([
      [
        's',
        map([
          ['nl', str('a\nb')],
          ['tick', str('a`b')],
          ['hash', str('a#b')],
          ['semi', str('a;b')],
          ['lead', str(' a')],
          ['trail', str('a ')],
          ['empty', str('')],
          ['plain', str('a "b" c')],
        ]),
      ],
    ]);
    expect(emitDoc(doc)).toBe(
      ['[s]', 'nl    = """a', 'b"""', 'tick  = """a`b"""', 'hash  = `a#b`', 'semi  = `a;b`', 'lead  = " a"', 'trail = "a "', 'empty = ', 'plain = a "b" c', ''].join('\n'),
    );
  });

  it('quotes the values go-ini would misread so they read back unchanged', () => {
    const doc = map([['s', map([['q', str('"x"')], ['sq', str("'y'")], ['bs', str('end\\')], ['tq', str('"""z')], ['mix', str(' "w"')]])]]);
    const text = emitDoc(doc);
    expect(text).toBe('[s]\nq   = """"x""""\nsq  = """\'y\'"""\nbs  = """end\\"""\ntq  = """"""z"""\nmix = """ "w""""\n');
    expect(toPlain(parse(text).documents[0]!)).toEqual({ DEFAULT: {}, s: toPlain((doc.items[0] as Entry).value) });
  });

  it('writes comments above their key or section, a blank line between sections and none after the last', () => {
    const doc = map([
      ['DEFAULT', map([['top', str('1')]])],
      ['s', section(comment(' about s\n# second'), ['a', str('1')], comment('for a'), ['b', str('2')], comment(';x\nplain\n  ;  y '))],
      ['empty', map()],
    ]);
    expect(emitDoc(doc)).toBe('top = 1\n\n;  about s\n# second\n[s]\n; for a\na = 1\n; x\n; plain\n; ;  y\nb = 2\n\n[empty]\n');
  });

  it('leaves out an empty DEFAULT section, header and all', () => {
    expect(emitDoc(map([['DEFAULT', map()], ['s', map([['a', str('1')]])]]))).toBe('[s]\na = 1\n');
    expect(emitDoc(map([['DEFAULT', map()]]))).toBe('');
    expect(emitDoc(map([['s', map()], ['DEFAULT', map([['a', str('1')]])]]))).toBe('[s]\n\n[DEFAULT]\na = 1\n');
  });

  it('writes non-string scalars in their text form', () => {
    const doc = map([['s', map([['i', scalar('int', 42n)], ['b', scalar('bool', false)], ['f', scalar('float', 0.5)], ['n', scalar('null', null)], ['t', scalar('time', '2024-01-01T00:00:00Z')]])]]);
    expect(emitDoc(doc)).toBe('[s]\ni = 42\nb = false\nf = 0.5\nn = \nt = 2024-01-01T00:00:00Z\n');
  });

  it('writes the metadata section last, flattened, newlines as literal \\n, aligned like any section', () => {
    const metadata = map([
      ['version', str('3.13.2')],
      ['age', list([map([['recipient', str('age1x')], ['enc', str('-----BEGIN-----\nabc\n-----END-----\n')]])])],
      ['encrypted_regex', str('^(a|b);#')],
    ]);
    const text = emitDoc(map([['DEFAULT', map()], ['s', map([['k', str('ENC[x]')]])]]), metadata);
    expect(text).toBe(
      '[s]\nk = ENC[x]\n\n[sops]\n' +
        'age__list_0__map_enc       = -----BEGIN-----\\nabc\\n-----END-----\\n\n' +
        'age__list_0__map_recipient = age1x\n' +
        'encrypted_regex            = `^(a|b);#`\n' +
        'version                    = 3.13.2\n',
    );
    const reread = parse(text);
    expect(toPlain(reread.metadata!)).toEqual(toPlain(metadata));
    expect(sections(reread)).toEqual({ DEFAULT: {}, s: { k: 'ENC[x]' } });
  });

  it('refuses trees it cannot hold, naming keys but not values', () => {
    const cases: [MapNode, RegExp][] = [
      [map([['s', map([['deep', map([['x', str('hunter2')]])]])]]), /INI cannot hold nested values \(key "deep" in section "s"\)/],
      [map([['s', map([['l', list([str('hunter2')])]])]]), /nested values \(key "l"/],
      [map([['top', str('hunter2')]]), /top-level key "top" is not a section/],
      [map([['s', map([['', str('hunter2')]])]]), /empty key/],
      [map([['s', map([['a\nb', str('hunter2')]])]]), /line break/],
      [map([['s', map([[' a', str('hunter2')]])]]), /whitespace/],
      [map([['s', map([['a`=b', str('hunter2')]])]]), /mixes quote characters/],
      [map([['', map([['a', str('hunter2')]])]]), /section name/],
      [map([['s', map([['k', str('x"""\nhunter2`\n')]])]]), /cannot hold the value of key "k"/],
    ];
    for (const [doc, message] of cases) expectCleanError(() => emitDoc(doc), EmitError, message);
    expect(errorOf(() => emit({ format: 'ini', documents: [map(), map()] }))).toBeInstanceOf(EmitError);
  });

  it('writes what it reads: parse(emit(tree)) gives the tree back, or emit refuses', () => {
    const name = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 });
    const section = fc.uniqueArray(fc.tuple(name, fc.string({ unit: 'grapheme', maxLength: 12 })), { maxLength: 4, selector: ([k]) => k });
    const doc = fc.uniqueArray(fc.tuple(name, section), { maxLength: 3, selector: ([k]) => k }).map((secs) =>
      map([['DEFAULT', map()], ...secs.filter(([n]) => n !== 'DEFAULT' && n !== 'sops').map(([n, keys]): [string, Node] => [n, map(keys.map(([k, v]) => [k, str(v)]))])]),
    );
    let written = 0;
    fc.assert(
      fc.property(doc, (tree) => {
        let text: string;
        try {
          text = emitDoc(tree);
        } catch (e) {
          expect(e).toBeInstanceOf(EmitError);
          return;
        }
        written++;
        expect(toPlain(parse(text).documents[0]!)).toEqual(toPlain(tree));
      }),
      { numRuns: 500 },
    );
    expect(written).toBeGreaterThan(100);
  });

  it('round-trips comments through emit and parse', () => {
    const doc = map([
      ['DEFAULT', map()],
      ['s', section(comment('section note'), ['a', str('1')], comment('key note\n; second line'), ['b', str('2')])],
    ]);
    const back = parse(emitDoc(doc)).documents[0]!;
    expect(back).toEqual(doc);
  });
});

function section(...items: (Comment | [string, Node])[]): MapNode {
  return { kind: 'map', items: items.map((item) => (Array.isArray(item) ? { kind: 'entry', key: item[0], value: item[1] } : item)) };
}

describe('INI: through the real document layer', () => {
  it('encrypts values and comments and decrypts to the canonical text', async () => {
    const { throwawayAgeKey, encryptText, decryptText } = await import('../support/pipeline.js');
    const key = await throwawayAgeKey();
    const plaintext = '; people\n[name]\n; given\nfirst = Ada\nlast  = Lovelace\n\n[net]\nhost = db.local\n';
    const encrypted = await encryptText('ini', plaintext, key.recipient);
    expect(encrypted).toMatch(/^; ENC\[AES256_GCM,.*type:comment\]\n\[name\]\n; ENC\[.*\nfirst = ENC\[/);
    expect(encrypted).toMatch(/\n\n\[sops\]\nage__list_0__map_enc/);
    expect(encrypted).not.toMatch(/Ada|Lovelace|people|given/);
    expect(await decryptText('ini', encrypted, key.identity)).toBe(plaintext);
  });
});

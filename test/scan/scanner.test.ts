/** The scanner's own pieces: globs, the allowlist, masking, placeholders, the known-value match. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Allowlist, globToRegex } from '../../src/scan/allowlist.js';
import { isPlaceholder } from '../../src/scan/detectors.js';
import { KnownValues, knownMatches } from '../../src/scan/known-values.js';
import { keyNameFor, maskedExcerpt, scanContent, MAX_SCAN_BYTES } from '../../src/scan/scanner.js';
import { ConfigError } from '../../src/errors.js';
import { escapeControl } from '../../src/escape.js';
import { compileRe2 } from '../../src/regex/re2.js';
import { encryptText, throwawayAgeKey } from '../support/pipeline.js';
import { randomFrom } from '../support/secret-corpus.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

describe('globs', () => {
  const matches = (glob: string, path: string): boolean => compileRe2(globToRegex(glob)).test(path);
  it('match as .gitignore users expect', () => {
    expect(matches('*.md', 'docs/a.md')).toBe(true);
    expect(matches('*.md', 'a.mdx')).toBe(false);
    expect(matches('docs/*.md', 'docs/a.md')).toBe(true);
    expect(matches('docs/*.md', 'docs/sub/a.md')).toBe(false);
    expect(matches('docs/**', 'docs/sub/a.md')).toBe(true);
    expect(matches('**/fixtures/*', 'a/b/fixtures/x')).toBe(true);
    expect(matches('**/fixtures/*', 'fixtures/x')).toBe(true);
    expect(matches('a?c', 'abc')).toBe(true);
    expect(matches('a?c', 'a/c')).toBe(false);
  });
  it('take every other character literally, whatever it is', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !/[*?]/.test(s) && !s.startsWith('/')), (name) => {
      expect(compileRe2(globToRegex(name)).test(name)).toBe(true);
      expect(compileRe2(globToRegex(name)).test(`${name}x`)).toBe(false);
    }));
  });
});

describe('the allowlist', () => {
  const list = Allowlist.parse('creation_rules: []\ntsops:\n  other_feature: 1\n  scan:\n    allow:\n      - path: "tests/**"\n      - rule: basicauth\n      - path: "*.md"\n        rule: github/GITHUB_TOKEN\n', '.sops.yaml');
  it('allows by path, by rule family or exact rule, and by both', () => {
    expect(list.allows('tests/a/b.py', 'aws/AWSAccessKeyID')).toBe(true);
    expect(list.allows('src/a.py', 'basicauth/BasicAuth')).toBe(true);
    expect(list.allows('README.md', 'github/GITHUB_TOKEN')).toBe(true);
    expect(list.allows('README.md', 'gitlab/GITLAB_PERSONAL_ACCESS_TOKEN')).toBe(false);
    expect(list.allows('src/a.py', 'github/GITHUB_TOKEN')).toBe(false);
    expect(list.allows('src/a.py', 'basic')).toBe(false);
  });
  it('refuses what it cannot mean', () => {
    expect(() => Allowlist.parse('tsops:\n  scan:\n    allow:\n      - {}\n', 'c')).toThrow(ConfigError);
    expect(() => Allowlist.parse('tsops:\n  scan:\n    alow: []\n', 'c')).toThrow(/alow/);
    expect(() => Allowlist.parse('tsops:\n  scan:\n    allow:\n      - path: [a]\n', 'c')).toThrow(/must be a string/);
  });
  it('is empty for a config without the section', () => {
    expect(Allowlist.parse('creation_rules: []\n', 'c').allows('a', 'b')).toBe(false);
    expect(Allowlist.parse('', 'c').allows('a', 'b')).toBe(false);
  });
});

describe('masking', () => {
  it('shows the name the value is assigned to and at most four characters of it', () => {
    const line = 'export TOKEN="abcdefghijklmnopqrstuvwxyz"';
    expect(maskedExcerpt(line, 14, 40)).toBe('TOKEN="abcd****************');
    expect(maskedExcerpt('k=abcdefgh', 2, 10)).toBe('k=ab******');
    expect(maskedExcerpt('  "api_key": "abcdefgh"', 14, 22)).toBe('api_key": "ab******');
  });
  it('shows nothing else of the line, which may hold a secret no rule knows, and escapes control characters', () => {
    expect(maskedExcerpt('a=SECRET1 b=SECRET2', 12, 19)).toBe('b=S******');
    expect(maskedExcerpt('hunter2hunter2 ghp_abcdefgh', 15, 27)).toBe('ghp*********');
    expect(maskedExcerpt('k=\x1b[2Jabcdefgh', 2, 14)).toBe('k=\\x1b[2*********');
  });
  it('never shows more than a quarter of any value, and at most four characters of it', () => {
    fc.assert(fc.property(fc.string({ maxLength: 60 }), fc.string({ minLength: 4, maxLength: 80 }), (before, secret) => {
      const line = before.replace(/\n/g, '') + secret.replace(/\n/g, ' ');
      const start = line.length - secret.length;
      const out = maskedExcerpt(line, start, line.length);
      const assigned = /([A-Za-z_][A-Za-z0-9_.-]{0,63}["']?\s*(?:=|:|=>)\s*["'`]?)$/.exec(line.slice(Math.max(0, start - 80), start))?.[1] ?? '';
      const shown = out.replace(/\*+$/, '');
      expect(shown.startsWith(assigned.replace(/[\u0000-\u001f\u007f-\u009f]/g, ''))).toBe(true);
      expect(out.length).toBeLessThanOrEqual(assigned.length * 6 + 4 * 12 + 16);
      expect(shown.length - escapeControl(assigned).length).toBeLessThanOrEqual(escapeControl(line.slice(start, start + Math.min(4, Math.floor(secret.length / 4)))).length);
    }));
  });
  it('names the key from the assignment before the value', () => {
    expect(keyNameFor('API_KEY = "x', 11, 'openai/X')).toBe('API_KEY');
    expect(keyNameFor('  "token": "x', 12, 'slack/X')).toBe('token');
    expect(keyNameFor('xoxb-1-2', 0, 'slack/SLACK_TOKEN')).toBe('slack_SLACK_TOKEN');
  });
});

describe('placeholders', () => {
  it('are the filler of documentation, not tokens', () => {
    for (const p of ['AKIAXXXXXXXXXXXXXXXX', 'ghp_your_token_here', 'xoxb-${SLACK}', 'AKIA0000000000000000', 'sk-EXAMPLE', 'https://user:<password>@host.com']) expect(isPlaceholder(p)).toBe(true);
    expect(isPlaceholder(`ghp_${randomFrom(ALNUM, 36)}`)).toBe(false);
    expect(isPlaceholder('-----BEGIN RSA PRIVATE KEY-----\nXXXXXXXX\n')).toBe(false);
  });
});

describe('known values', () => {
  it('are found as tokens, quoted strings, assignment values and whole lines, only at full length', async () => {
    const key = await throwawayAgeKey();
    const value = randomFrom(ALNUM, 20);
    const spaced = `correct horse ${randomFrom(ALNUM, 8)} staple`;
    const known = new KnownValues();
    const enc = await encryptText('yaml', `a: ${value}\nb: '${spaced}'\nshort: abc\nport: 12345678\n`, key.recipient);
    await known.addEncrypted('s.enc.yaml', Buffer.from(enc), { env: {}, identities: { age: [key.identity] } });
    expect(known.size).toBe(2);
    const text = [`x = "${value}"`, `${spaced}`, `PASS=${spaced}`, `url=https://h/?t=${value}&x=1`, `${value}x`, 'abc', '12345678', `f(${value})`].join('\n');
    const lines = knownMatches(text, known).map((m) => m.line);
    expect(lines).toEqual([1, 2, 3, 8]);
    known.forget();
    expect(known.size).toBe(0);
  });

  it('skip a file whose key groups have no age recipient, and one the keys here do not open', async () => {
    const known = new KnownValues();
    const other = await throwawayAgeKey();
    const enc = await encryptText('yaml', 'a: some-long-value\n', other.recipient);
    await known.addEncrypted('x.enc.yaml', Buffer.from(enc), { env: {}, identities: { age: [(await throwawayAgeKey()).identity] } });
    await known.addEncrypted('pgp.enc.yaml', Buffer.from(enc.replace(/age:[\s\S]*?(?=\n {4}lastmodified)/, 'pgp:\n        - fp: ABCD\n          created_at: "2020-01-01T00:00:00Z"\n          enc: x')), { env: {} });
    expect(known.unopened).toEqual(['x.enc.yaml', 'pgp.enc.yaml']);
    expect(known.size).toBe(0);
  });
});

describe('large and binary content', () => {
  it('reads a large file up to the bound, and skips binary', async () => {
    const token = `ghp_${randomFrom(ALNUM, 36)}`;
    const filler = 'x = 1\n'.repeat(Math.ceil(MAX_SCAN_BYTES / 6));
    const early = await scanContent('a.txt', Buffer.from(`${token}\n${filler}`), { allowlist: new Allowlist() });
    expect(early.truncated).toBe(true);
    expect(early.findings).toHaveLength(1);
    const late = await scanContent('a.txt', Buffer.from(`${filler}${token}\n`), { allowlist: new Allowlist() });
    expect(late.findings).toHaveLength(0);
    expect((await scanContent('a.bin', Buffer.concat([Buffer.from([0, 0xff, 0xfe]), Buffer.from(`\n${token}`)]), { allowlist: new Allowlist() })).skipped).toBe('not-text');
    // A NUL byte planted at the top of a text file does not make it binary.
    const planted = await scanContent('a.env', Buffer.from(`\0\nTOKEN=${token}\n`), { allowlist: new Allowlist() });
    expect(planted.skipped).toBeUndefined();
    expect(planted.findings.map((f) => f.line)).toEqual([2]);
  });
});

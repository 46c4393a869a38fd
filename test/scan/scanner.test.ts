/** The scanner's own pieces: globs, the allowlist, masking, placeholders, the known-value match. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Allowlist, globToRegex } from '../../src/scan/allowlist.js';
import { isPlaceholder } from '../../src/scan/detectors.js';
import { KnownValues, knownMatches } from '../../src/scan/known-values.js';
import { keyNameFor, maskedExcerpt, scanContent, MAX_SCAN_BYTES } from '../../src/scan/scanner.js';
import { ConfigError } from '../../src/errors.js';
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
  it('shows the key and at most four characters of the value', () => {
    const line = 'export TOKEN="abcdefghijklmnopqrstuvwxyz"';
    expect(maskedExcerpt(line, 14, 40, [[14, 40]])).toBe('export TOKEN="abcd****************');
    expect(maskedExcerpt('k=abcdefgh', 2, 10, [[2, 10]])).toBe('k=ab******');
  });
  it('masks other findings on the line and escapes control characters', () => {
    expect(maskedExcerpt('a=SECRET1 b=\x1b[2JSECRET2', 16, 23, [[2, 9], [16, 23]])).toBe('a=******* b=\\x1b[2JS******');
  });
  it('never shows more than a quarter of any value', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 60 }), fc.string({ minLength: 4, maxLength: 80 }), (before, secret) => {
      const line = before.replace(/\n/g, '') + secret.replace(/\n/g, ' ');
      const start = line.length - secret.length;
      const out = maskedExcerpt(line, start, line.length, [[start, line.length]]);
      const shown = out.replace(/\*+$/, '');
      expect(shown.length - Math.min(24, start) - (start > 24 ? 1 : 0)).toBeLessThanOrEqual(Math.floor(secret.length / 4) + 1);
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
    expect((await scanContent('a.bin', Buffer.from(`\0${token}`), { allowlist: new Allowlist() })).skipped).toBe('binary');
  });
});

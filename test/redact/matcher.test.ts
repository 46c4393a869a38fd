/**
 * The output filter on its own: the automaton against a naive search, the
 * streaming redactor against every way of cutting its input, and the
 * encodings a value is looked for in.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MIN_REDACTED_LENGTH, tooWeakToRedact, valuePatterns } from '../../src/redact/encodings.js';
import { PatternAutomaton, REDACTED, StreamRedactor } from '../../src/redact/matcher.js';

/** Feeds `input` in the given cuts; returns all that came out. */
function run(patterns: Buffer[], input: Buffer, cuts: number[] = [], longLine?: number): Buffer {
  const redactor = new StreamRedactor(new PatternAutomaton(patterns), longLine === undefined ? {} : { longLine });
  const out: Buffer[] = [];
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    out.push(redactor.push(input.subarray(at, Math.max(at, cut))));
    at = Math.max(at, cut);
  }
  out.push(redactor.push(input.subarray(at)), redactor.end());
  return Buffer.concat(out);
}

/** The same by brute force: every occurrence of every pattern, overlapping ones merged, each stretch one marker. */
function reference(patterns: Buffer[], input: Buffer): Buffer {
  const hidden = new Uint8Array(input.length);
  for (const p of patterns) for (let i = input.indexOf(p); i >= 0; i = input.indexOf(p, i + 1)) hidden.fill(1, i, i + p.length);
  const out: Buffer[] = [];
  for (let i = 0; i < input.length; ) {
    if (!hidden[i]) {
      let j = i;
      while (j < input.length && !hidden[j]) j++;
      out.push(input.subarray(i, j));
      i = j;
    } else {
      while (i < input.length && hidden[i]) i++;
      out.push(REDACTED);
    }
  }
  return Buffer.concat(out);
}

/** Text made of pieces of the values' encodings and filler, so occurrences, overlaps and near misses are common. */
const valueArb = fc.oneof(fc.string({ minLength: MIN_REDACTED_LENGTH, maxLength: 24 }), fc.stringMatching(/^[a-z0-9+/=%\\ \n"-]{4,30}$/));
const scenario = fc
  .record({ values: fc.array(valueArb, { minLength: 1, maxLength: 5 }), picks: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.uint8Array({ maxLength: 6 })), { maxLength: 12 }) })
  .map(({ values, picks }) => {
    const patterns = values.flatMap((v) => valuePatterns(v));
    const input = Buffer.concat(
      picks.map(([which, from, to, filler]) => {
        const p = patterns.length > 0 ? patterns[which % patterns.length]! : Buffer.alloc(0);
        // Whole patterns mostly, sometimes a part (a near miss).
        const part = which % 4 === 0 ? p.subarray(Math.min(from, to) % (p.length + 1), Math.max(from, to) % (p.length + 1)) : p;
        return Buffer.concat([Buffer.from(filler), part, which % 5 === 0 ? Buffer.from('\n') : Buffer.alloc(0)]);
      }),
    );
    return { values, patterns, input };
  });
const cutsArb = fc.array(fc.nat({ max: 400 }), { maxLength: 8 });

describe('StreamRedactor', () => {
  it('gives what a brute-force search gives, however the input is cut into writes', () => {
    fc.assert(
      fc.property(scenario, cutsArb, ({ patterns, input }, cuts) => {
        expect(run(patterns, input, cuts).equals(reference(patterns, input))).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('with partial lines let out early, no piece between markers holds a pattern', () => {
    fc.assert(
      fc.property(scenario, cutsArb, fc.integer({ min: 1, max: 40 }), ({ patterns, input }, cuts, longLine) => {
        const out = run(patterns, input, cuts, longLine);
        for (const piece of out.toString('latin1').split(REDACTED.toString('latin1'))) {
          const bytes = Buffer.from(piece, 'latin1');
          for (const p of patterns) expect(bytes.includes(p)).toBe(false);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('output holding none of the values passes byte for byte', () => {
    fc.assert(
      fc.property(fc.array(valueArb, { minLength: 1, maxLength: 5 }), fc.uint8Array({ maxLength: 2000 }), cutsArb, (values, bytes, cuts) => {
        const patterns = values.flatMap((v) => valuePatterns(v));
        const input = Buffer.from(bytes);
        fc.pre(patterns.every((p) => !input.includes(p)));
        expect(run(patterns, input, cuts).equals(input)).toBe(true);
        expect(run(patterns, input, cuts, 7).equals(input)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('lets a line out as soon as its newline arrives, and holds a partial one', () => {
    const redactor = new StreamRedactor(new PatternAutomaton([Buffer.from('secret-value')]));
    expect(redactor.push(Buffer.from('one secret-')).toString()).toBe('');
    expect(redactor.push(Buffer.from('value two\nthree secr')).toString()).toBe('one [redacted] two\n');
    expect(redactor.push(Buffer.from('et-value')).toString()).toBe('');
    expect(redactor.end().toString()).toBe('three [redacted]');
  });

  it('a long partial line leaves in parts, keeping back what a match could still need', () => {
    const redactor = new StreamRedactor(new PatternAutomaton([Buffer.from('secret-value')]), { longLine: 20 });
    const first = redactor.push(Buffer.from('x'.repeat(30) + 'secret-'));
    expect(first.toString()).toBe('x'.repeat(26));
    expect(Buffer.concat([first, redactor.push(Buffer.from('value')), redactor.end()]).toString()).toBe('x'.repeat(30) + '[redacted]');
  });

  it('no patterns: everything passes, long lines included', () => {
    const input = Buffer.from('a'.repeat(100) + '\nb');
    expect(run([], input, [10, 50], 5).equals(input)).toBe(true);
  });
});

describe('PatternAutomaton', () => {
  it('refuses a pattern holding a newline (output is cut at newlines)', () => {
    expect(() => new PatternAutomaton([Buffer.from('a\nb')])).toThrow(/newline/);
  });
});

describe('valuePatterns', () => {
  const has = (value: string, form: string): boolean => valuePatterns(value).some((p) => p.equals(Buffer.from(form)));

  it('the value, base64 in both alphabets with and without padding, URL, form and JSON escapes', () => {
    const value = 'a b/c+d"é?>>';
    const b64 = Buffer.from(value).toString('base64');
    for (const form of [value, b64, b64.replace(/=+$/, ''), Buffer.from(value).toString('base64url'), encodeURIComponent(value), encodeURIComponent(value).replace(/%20/g, '+'), JSON.stringify(value).slice(1, -1)]) {
      expect(has(value, form), form).toBe(true);
    }
  });

  it('hex in both cases, and each line of base64 wrapped at 64 and 76 characters', () => {
    const value = 'k'.repeat(40) + '-a-long-secret-value-that-wraps-' + 'z'.repeat(60);
    expect(has(value, Buffer.from(value).toString('hex'))).toBe(true);
    expect(has(value, Buffer.from(value).toString('hex').toUpperCase())).toBe(true);
    const b64 = Buffer.from(value).toString('base64');
    for (const width of [64, 76]) {
      for (const line of b64.match(new RegExp(`.{1,${width}}`, 'g'))!) expect(has(value, line), `${width}: ${line}`).toBe(true);
    }
  });

  it('base64 of the value inside a longer text, at any offset', () => {
    const value = 'hunter2-password';
    for (const prefix of ['', 'u', 'us', 'user:']) {
      const encoded = Buffer.from(prefix + value + '!').toString('base64');
      expect(valuePatterns(value).some((p) => encoded.includes(p.toString('latin1')) && p.length >= 16)).toBe(true);
    }
  });

  it('a multi-line value is looked for line by line; no pattern holds a newline', () => {
    const value = '-----BEGIN KEY-----\r\nAAAABBBBCCCC\nab\n-----END KEY-----\n';
    const patterns = valuePatterns(value);
    expect(has(value, '-----BEGIN KEY-----')).toBe(true);
    expect(has(value, 'AAAABBBBCCCC')).toBe(true);
    expect(has(value, 'ab')).toBe(false);
    expect(has('  indented line\nnext line here', 'indented line')).toBe(true);
    expect(patterns.every((p) => !p.includes(0x0a))).toBe(true);
  });

  it('bytes that are not UTF-8 get their raw and base64 forms', () => {
    const value = new Uint8Array([0xff, 0x00, 0xfe, 0x41, 0x42]);
    const patterns = valuePatterns(value);
    expect(patterns.some((p) => p.equals(Buffer.from(value)))).toBe(true);
    expect(patterns.some((p) => p.toString() === Buffer.from(value).toString('base64'))).toBe(true);
  });

  it('values too short or too common to hide give no pattern', () => {
    for (const weak of ['', '0', 'abc', 'true', 'false', 'null', 'é']) {
      expect(tooWeakToRedact(weak)).toBe(true);
      expect(valuePatterns(weak)).toEqual([]);
    }
    expect(tooWeakToRedact('abcd')).toBe(false);
  });
});

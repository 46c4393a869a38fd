/**
 * The line scanner (formats/yaml/simple.ts) must build exactly what the CST
 * reader builds, or step aside. Random documents in the shapes real files
 * have (and broken variants of them) are read both ways and compared, tree
 * and layout alike.
 */
import fc from 'fast-check';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYaml, parseYamlWithCst } from '../../src/formats/yaml/parse.js';
import { readSimpleYaml } from '../../src/formats/yaml/simple.js';
import { yamlFormat } from '../../src/formats/yaml.js';
import { ROOT } from '../support/cli.js';
import { HAS_INTEROP, INTEROP } from '../support/interop.js';
import { toPlain } from '../../src/tree.js';

function shape(x: unknown): string {
  return JSON.stringify(
    x,
    (k, v) => (k === 'layout' && v && typeof v === 'object' && 'docs' in v ? '<layout>' : typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v),
    1,
  );
}

type Outcome = 'fast' | 'bail';

/** Reads both ways; throws when the scanner accepted something the CST reader reads differently (or rejects). */
function agree(source: string): Outcome {
  const fast = readSimpleYaml(source);
  if (!fast) return 'bail';
  let slow;
  try {
    slow = parseYamlWithCst(Buffer.from(source));
  } catch (e) {
    throw new Error(`the scanner accepted what the CST reader rejects (${(e as Error).message}):\n${source}`);
  }
  const view = (r: { documents: unknown; metadata?: unknown; layout?: unknown; warnings?: unknown }) =>
    shape({ documents: r.documents, metadata: r.metadata, layout: { ...(r.layout as object), source: undefined, metadataKey: undefined }, warnings: r.warnings });
  expect(view(fast), source).toBe(view(slow));
  return 'fast';
}

const COMMON_KEYS = ['a', 'db', 'password', 'x_unencrypted', 'key with spaces', 'sops', 'k-1', 'ümlaut', '"quoted key"', "'single'", 'a#b', 'url'];
const ODD_KEYS = ['on', '1', '? x', '[k]', 'k :', '-'];
const key = fc.oneof({ arbitrary: fc.constantFrom(...COMMON_KEYS), weight: 12 }, { arbitrary: fc.constantFrom(...ODD_KEYS), weight: 1 });
const COMMON_SCALARS = [
  'plain',
  'two words',
  '~',
  'null',
  'true',
  'False',
  '42',
  '-7',
  '0x1F',
  '1.5',
  '1e3',
  '.inf',
  '2001-12-14t21:59:43.10-05:00',
  '2002-12-14',
  '"double"',
  '"esc \\" \\n \\u00e9"',
  "'single ''q'''",
  "''",
  '""',
  'ENC[AES256_GCM,data:abc=,iv:def=,tag:ghi=,type:str]',
  'ENC[AES256_GCM,data:abc=,iv:def=,tag:ghi=,type:comment]',
  'x#y',
  'http://h:80/p',
  '[]',
  '{}',
];
const ODD_SCALARS = [
  'a: b',
  'ends:',
  'x #not comment',
  '[a, b]',
  '&anchor v',
  '*alias',
  '!!str 5',
  '>',
  '- x',
  'trailing   ',
  '@at',
  '%pct',
  "'unterminated",
];

const tree = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    // Weights: mostly what real files hold, enough of the rest to test stepping aside.
    {
      arbitrary: fc.oneof({ arbitrary: fc.constantFrom(...COMMON_SCALARS), weight: 10 }, { arbitrary: fc.constantFrom(...ODD_SCALARS), weight: 1 }).map((v) => ({ scalar: v })),
      weight: 8,
    },
    fc.record({
      literal: fc.array(fc.constantFrom('line one', '  indented', '', 'ENC[x]', '# not a comment', 'k: v'), { minLength: 0, maxLength: 4 }),
      chomp: fc.oneof({ arbitrary: fc.constantFrom('|', '|-'), weight: 6 }, { arbitrary: fc.constantFrom('|+', '|2', '>'), weight: 1 }),
    }),
    fc.constant({ empty: true }),
    { arbitrary: fc.array(fc.record({ key, value: tie('node') }), { minLength: 1, maxLength: 4 }).map((entries) => ({ map: entries })), weight: 3 },
    { arbitrary: fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((items) => ({ seq: items })), weight: 2 },
  ),
}));

const decorations = fc.record({
  step: fc.constantFrom(2, 4, 3),
  compact: fc.boolean(),
  comments: fc.array(fc.tuple(fc.nat(40), fc.constantFrom(-2, 0, 0, 0, 0, 0, 2), fc.constantFrom(' c', 'ENC[AES256_GCM,data:q=,iv:q=,tag:q=,type:comment]', '', ' trailing  ')), { maxLength: 3 }),
  inline: fc.array(fc.nat(40), { maxLength: 3 }),
  blanks: fc.array(fc.nat(40), { maxLength: 3 }),
  finalNewline: fc.boolean(),
});

function render(root: { map: { key: string; value: unknown }[] }, d: { step: number; compact: boolean }): string[] {
  const out: string[] = [];
  const pad = (n: number) => ' '.repeat(Math.max(0, n));
  const value = (v: any, indent: number, head: string) => {
    if (v.scalar !== undefined) out.push(`${head} ${v.scalar}`);
    else if (v.empty) out.push(head);
    else if (v.literal) {
      out.push(`${head} ${v.chomp}`);
      for (const l of v.literal) out.push(l === '' ? '' : pad(indent + d.step) + l);
    } else if (v.map) {
      out.push(head);
      map(v.map, indent + d.step);
    } else {
      out.push(head);
      seq(v.seq, d.compact ? indent : indent + d.step);
    }
  };
  const map = (entries: { key: string; value: unknown }[], indent: number) => {
    for (const e of entries) value(e.value, indent, `${pad(indent)}${e.key}:`);
  };
  const seq = (items: any[], indent: number) => {
    for (const it of items) {
      if (it.map) {
        const [first, ...rest] = it.map as { key: string; value: any }[];
        const inner = indent + 2;
        const before = out.length;
        value(first!.value, inner, `${pad(indent)}- ${first!.key}:`);
        if (out.length === before) continue;
        map(rest, inner);
      } else if (it.scalar !== undefined) out.push(`${pad(indent)}- ${it.scalar}`);
      else if (it.seq || it.empty) out.push(`${pad(indent)}-`);
      else value(it, indent, `${pad(indent)}-`);
    }
  };
  map(root.map, 0);
  return out;
}

type Decorations = typeof decorations extends fc.Arbitrary<infer T> ? T : never;

function decorate(lines: string[], d: Decorations): string {
  const out = [...lines];
  for (const at of d.inline) {
    const i = at % out.length;
    if (out[i] && !out[i]!.trimEnd().endsWith(':') && !/[|>][-+0-9]?$/.test(out[i]!)) out[i] += ' # inline';
  }
  for (const [at, shift, text] of d.comments) {
    const i = at % (out.length + 1);
    const next = out.slice(i).find((l) => l.trim()) ?? '';
    const column = Math.max(0, next.length - next.trimStart().length + shift);
    out.splice(i, 0, `${' '.repeat(column)}#${text}`);
  }
  for (const at of d.blanks) out.splice(at % (out.length + 1), 0, '');
  return out.join('\n') + (d.finalNewline ? '\n' : '');
}

describe('the YAML line scanner agrees with the CST reader', () => {
  it('on random documents', () => {
    const counts = { fast: 0, bail: 0 };
    fc.assert(
      fc.property(
        fc.array(fc.record({ key, value: tree.node }), { minLength: 1, maxLength: 5 }),
        decorations,
        (entries, d) => {
          const text = decorate(render({ map: entries }, d), d);
          counts[agree(text)]++;
        },
      ),
      { numRuns: 6000, seed: 20261123 },
    );
    // The generator must reach the fast path often, or the comparison proves little.
    expect(counts.fast).toBeGreaterThan(600);
  });

  it('on broken variants of those documents', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ key, value: tree.node }), { minLength: 1, maxLength: 4 }),
        decorations,
        fc.nat(),
        fc.constantFrom('delete', 'insert', 'dup-line', 'indent'),
        fc.constantFrom(' ', ':', '-', '#', '"', "'", '\n', 'x', '|'),
        (entries, d, at, how, ch) => {
          let text = decorate(render({ map: entries }, d), d);
          const i = at % (text.length + 1);
          if (how === 'delete') text = text.slice(0, i) + text.slice(i + 1);
          else if (how === 'insert') text = text.slice(0, i) + ch + text.slice(i);
          else {
            const lines = text.split('\n');
            const j = at % lines.length;
            if (how === 'dup-line') lines.splice(j, 0, lines[j]!);
            else lines[j] = ` ${lines[j]}`;
            text = lines.join('\n');
          }
          agree(text);
        },
      ),
      { numRuns: 3000, seed: 7 },
    );
  });

  it('on the fixtures, the sops samples (when present) and their encrypted forms', async () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.ya?ml$/.test(name)) files.push(path);
      }
    };
    walk(join(ROOT, 'fixtures'));
    if (HAS_INTEROP) walk(INTEROP);
    let fast = 0;
    for (const file of files) if (agree(readFileSync(file, 'utf8')) === 'fast') fast++;
    // The layout fixtures are too rich for the line scanner; sops-written samples are what it reads.
    expect(fast).toBeGreaterThanOrEqual(HAS_INTEROP ? 10 : 0);
  });

  it('takes the shapes secrets files have, comments before a dedent included', () => {
    const shapes = [
      'image:\n  repository: app\n  tag: "1.2"\n# Service settings\nservice:\n  port: 80\n',
      'a:\n  b:\n    c: 1\n  # back to b level\n  d: 2\n#ENC[AES256_GCM,data:q=,iv:q=,tag:q=,type:comment]\ne: 3\n',
      'env:\n- name: A\n  value: x\n# next\nother: []\n',
      'list:\n  - x\n  # between\n  - y\n',
    ];
    for (const source of shapes) expect(agree(source), source).toBe('fast');
  });

  it('agrees on block scalars that end the file, with and without a final line break', () => {
    for (const indicator of ['|', '|-', '|+', '>', '>-', '>+']) {
      for (const tail of ['', '\n', '\n\n', '\n  ']) {
        const source = `a: x\nb:\n  c: ${indicator}\n    multi\n    line${tail}`;
        agree(source);
        // go-yaml's value: no final newline when the last line has none.
        if (tail === '') expect(toPlain(parseYaml(Buffer.from(source)).documents[0]!)).toEqual({ a: 'x', b: { c: indicator[0] === '|' ? 'multi\nline' : 'multi line' } });
      }
    }
  });

  it('writes back the same bytes either way', () => {
    const source = 'a:\n  # c\n  b: x # y\n  l:\n  - 1\n  - |\n    t\nz: "q"\nsops:\n  kms: []\n  version: 3.9.0\n';
    const viaFast = parseYaml(Buffer.from(source));
    const viaCst = parseYamlWithCst(Buffer.from(source));
    expect(readSimpleYaml(source)).toBeDefined();
    expect(yamlFormat.emit(viaFast).toString()).toBe(yamlFormat.emit(viaCst).toString());
  });
});

/**
 * Seeded mutation fuzzing of every parser tsops exposes. Each input must end in
 * a result or a TsopsError (a clean, documented error): anything else thrown is
 * a crash, and an input that takes longer than the per-input bound is a hang.
 * Used by `npm run fuzz` (long) and by the test suite (short).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseConfig } from '../../src/config/parse.js';
import { TsopsError } from '../../src/errors.js';
import { loadFormat } from '../../src/formats/format.js';
import { parseIdentityText } from '../../src/keys/age/identities.js';
import { parseSealed } from '../../src/sops/cipher.js';
import { readMetadata } from '../../src/sops/metadata.js';
import { parseTreePath } from '../../src/sops/treepath.js';
import type { FormatName } from '../../src/tree.js';
import { INTEROP } from '../support/interop.js';

export interface ParserReport {
  parser: string;
  inputs: number;
  crashes: { input: string; error: string }[];
  hangs: number;
}

const ROOT = resolve(import.meta.dirname, '..', '..');
const HANG_MS = 5000;

/** mulberry32: small, seeded, reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function filesIn(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const name of entries) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.size < 200_000) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

function seedsFor(ext: RegExp, extra: string[]): Buffer[] {
  const files = [...filesIn(join(ROOT, 'fixtures')), ...filesIn(INTEROP)].filter((f) => ext.test(f));
  return [...files.map((f) => readFileSync(f)), ...extra.map((e) => Buffer.from(e))];
}

/** One random mutation of `input`. */
export function mutate(input: Buffer, r: () => number): Buffer {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const at = Math.floor(r() * (input.length + 1));
  const lines = input.toString('latin1').split('\n');
  switch (Math.floor(r() * 10)) {
    case 0: {
      const out = Buffer.from(input);
      if (out.length) out[Math.min(at, out.length - 1)]! ^= 1 << Math.floor(r() * 8);
      return out;
    }
    case 1:
      return input.subarray(0, at);
    case 2:
      return Buffer.concat([input.subarray(0, at), Buffer.from([0xff, 0xfe, 0xc3]), input.subarray(at)]);
    case 3: {
      const i = Math.floor(r() * lines.length);
      lines.splice(i, 0, lines[i] ?? '');
      return Buffer.from(lines.join('\n'), 'latin1');
    }
    case 4:
      return Buffer.concat([input.subarray(0, at), Buffer.from(pick(['9'.repeat(400), '-1e999', '0x' + 'f'.repeat(40), '.nan', '1_000', "'", '"', '&a', '*a', '<<: *a', '!!binary', '{', '[', '- ', ': ', '#', '\\', '\t', '\r'])), input.subarray(at)]);
    case 5:
      return Buffer.concat([input.subarray(0, at), Buffer.from('x'.repeat(10_000)), input.subarray(at)]);
    case 6: {
      const i = Math.floor(r() * lines.length);
      lines.splice(i, 1);
      return Buffer.from(lines.join('\n'), 'latin1');
    }
    case 7:
      return Buffer.concat([input.subarray(0, at), Buffer.from([Math.floor(r() * 256), Math.floor(r() * 256)]), input.subarray(at)]);
    case 8: {
      const a = Math.floor(r() * lines.length);
      const b = Math.floor(r() * lines.length);
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      return Buffer.from(lines.join('\n'), 'latin1');
    }
    default: {
      const out = Buffer.from(input);
      for (let k = 0; k < 4 && out.length; k++) out[Math.floor(r() * out.length)] = Math.floor(r() * 128);
      return out;
    }
  }
}

type Target = { name: string; seeds: Buffer[]; run: (input: Buffer) => unknown };

async function targets(): Promise<Target[]> {
  const formats: [FormatName, RegExp, string[]][] = [
    ['yaml', /\.ya?ml$|\.sopsrc$/, ['a: 1\n', 'a: &x [1, 2]\nb: *x\n', '---\na: 1\n---\nb: 2\n', `${'a:\n  '.repeat(50)}x: 1\n`, `lol: &a ["x","x","x","x","x","x","x","x","x"]\n${Array.from({ length: 9 }, (_, i) => `l${i}: &l${i} [${Array(9).fill(i ? `*l${i - 1}` : '*a').join(',')}]`).join('\n')}\n`, `${'['.repeat(10_000)}${']'.repeat(10_000)}\n`, `a: ${'- '.repeat(5000)}x\n`]],
    ['json', /\.json$/, ['{"a": 1}', '{"a": {"b": [1, 2.5, true, null, "x"]}}', `{"a": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`, '{"a": 1, "a": 2}', '{"n": 123456789012345678901234567890}']],
    ['dotenv', /\.env$/, ['A=1\nB="two"\n# c\n', 'export A=1\n', 'A="multi\nline"\n']],
    ['ini', /\.ini$/, ['[s]\nk = v\n', '; c\n[s]\nk = """a\nb"""\n']],
    ['binary', /\.txt$/, ['plain bytes', '{"data": "x", "sops": {"mac": "m"}}']],
  ];
  const out: Target[] = [];
  for (const [name, ext, extra] of formats) {
    const format = await loadFormat(name);
    out.push({
      name: `${name} store`,
      seeds: seedsFor(ext, extra),
      run: (input) => {
        const parsed = format.parse(input, { file: 'fuzz' });
        if (parsed.metadata) readMetadata(parsed.metadata);
        return format.emit(parsed);
      },
    });
  }
  const encSeeds = ['ENC[AES256_GCM,data:oYyi,iv:MyIDYbT718JRr11QtBkcj3Dwm4k1aCGZBVeZf0EyV8o=,tag:t5z2Z023Up0kxwCgw1gNxg==,type:str]'];
  out.push({ name: 'ENC[...] grammar', seeds: encSeeds.map((s) => Buffer.from(s)), run: (input) => parseSealed(input.toString('utf8')) });
  out.push({ name: 'config file', seeds: seedsFor(/\.sopsrc$|\.sops\.ya?ml$/, ['creation_rules:\n  - path_regex: x\n    age: age1x\n']), run: (input) => parseConfig(input.toString('utf8'), '.sopsrc') });
  out.push({ name: '--extract / set path', seeds: ['["a"][0]["b"]', "['x']", '[1]'].map((s) => Buffer.from(s)), run: (input) => parseTreePath(input.toString('utf8')) });
  out.push({
    name: 'age identity file',
    seeds: seedsFor(/key\.txt$/, ['# created\nAGE-SECRET-KEY-1G0Q5K9TV4REQ3ZSQRMTMG8NSWQGYT0T7TZ33RAZEE0GZYVZN0APSU24RK7\n']),
    run: (input) => parseIdentityText(input.toString('utf8'), 'fuzz'),
  });
  return out;
}

/** Errors a parser may raise on bad input: documented, one line, with an exit code. */
function isClean(e: unknown): boolean {
  return e instanceof TsopsError && !e.message.includes('\n');
}

export async function runFuzz(seed: number, perTarget: number): Promise<ParserReport[]> {
  const r = rng(seed);
  const reports: ParserReport[] = [];
  for (const target of await targets()) {
    const report: ParserReport = { parser: target.name, inputs: 0, crashes: [], hangs: 0 };
    // Every input is tried as it is made; the last 400 (and the seeds) are what later ones mutate.
    const pool = [...target.seeds];
    const next = function* (): Generator<Buffer> {
      yield* target.seeds;
      for (let i = 0; i < perTarget; i++) {
        const base = pool[Math.floor(r() * pool.length)] ?? Buffer.alloc(0);
        let input = mutate(base, r);
        if (r() < 0.3) input = mutate(input, r);
        pool.push(input);
        if (pool.length > target.seeds.length + 400) pool.splice(target.seeds.length, 1);
        yield input;
      }
    };
    for (const input of next()) {
      report.inputs++;
      const t0 = performance.now();
      try {
        target.run(input);
      } catch (e) {
        if (!isClean(e)) report.crashes.push({ input: input.toString('base64').slice(0, 2000), error: `${(e as Error)?.name}: ${String((e as Error)?.message).slice(0, 200)}` });
      }
      if (performance.now() - t0 > HANG_MS) report.hangs++;
    }
    reports.push(report);
  }
  return reports;
}

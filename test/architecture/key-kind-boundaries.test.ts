/**
 * Each key kind lives in its own folder under src/keys/ and is named once
 * more, in src/keys/registry.ts; everything else iterates the registry. This
 * test lists, per registered kind, the source files (src/ and
 * scripts/build.mjs) outside those two places that name the kind, and expects none.
 *
 * What counts as naming a kind (comments do not):
 * - an identifier whose camelCase/snake_case words contain the kind's words
 *   (`kms` in `KmsSpec`, `kmsFromString`; `gcp`+`kms` in `gcpKmsKind`);
 * - a string literal that is one of the kind's spellings (its metadata field,
 *   config fields, environment variable, library option) or that, as a single
 *   word, contains the kind's words (`'SOPS_AGE_KEY_FILE'`, `'add-age'`);
 * - inside any string or regex literal: a flag spelling (`--age`, `--add-age`,
 *   `--rm-age`), an upper-case environment name containing the kind's words,
 *   or a word of a regex containing them (`age1[0-9a-z]+`);
 * - an import of a module inside the kind's folder.
 * Prose in messages ("no age identities found") is not a spelling and is left alone.
 *
 * KEY_KIND_BOUNDARY_SRC=/path/to/src checks another source tree (an older
 * layout) against the current registry; the test then only prints the list.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import type { KeyKind } from '../../src/keys/kind.js';
import { KEY_KINDS } from '../../src/keys/registry.js';

const REPO_SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const OTHER_SRC = process.env['KEY_KIND_BOUNDARY_SRC'];
const SRC = resolve(OTHER_SRC ?? REPO_SRC);

/** `KmsSpec` → kms, spec; `SOPS_AGE_KEY_FILE` → sops, age, key, file; `age1` → age, 1. */
function words(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([A-Za-z])([0-9])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

function containsRun(haystack: string[], needle: string[]): number {
  for (let i = 0; i + needle.length <= haystack.length; i++) if (needle.every((w, j) => haystack[i + j] === w)) return i;
  return -1;
}

interface KindProbe {
  type: string;
  folder: string;
  words: string[];
  spellings: Set<string>;
  flags: RegExp;
}

const probes: KindProbe[] = (KEY_KINDS as readonly KeyKind[]).map((kind) => ({
  type: kind.type,
  folder: join(SRC, 'keys', kind.type.replace(/_/g, '-')),
  words: words(kind.type),
  spellings: new Set([kind.type, ...kind.config.ruleFields, kind.config.groupField, kind.env, ...(kind.identitiesOption ? [kind.identitiesOption] : [])]),
  flags: new RegExp(`--(?:add-|rm-)?${kind.flag}(?![\\w-])`),
}));

/** The kinds a run of words names; a shorter kind inside a longer one's match (kms in gcp_kms) is the longer one. */
function kindsInWords(ws: string[]): KindProbe[] {
  const found: KindProbe[] = [];
  const taken = new Set<number>();
  for (const probe of [...probes].sort((a, b) => b.words.length - a.words.length)) {
    for (let i = 0; i + probe.words.length <= ws.length; i++) {
      const slice = ws.slice(i, i + probe.words.length);
      if (containsRun(slice, probe.words) !== 0) continue;
      const span = probe.words.map((_, j) => i + j);
      if (span.some((k) => taken.has(k))) continue;
      span.forEach((k) => taken.add(k));
      if (!found.includes(probe)) found.push(probe);
    }
  }
  return found;
}

function kindsInLiteral(text: string, isRegex: boolean): KindProbe[] {
  // A kind's own spelling names that kind only (SOPS_HUAWEICLOUD_KMS_IDS is hckms's, not kms's).
  const owners = probes.filter((p) => p.spellings.has(text));
  if (owners.length) return owners;
  const found = new Set<KindProbe>();
  for (const probe of probes) if (probe.flags.test(text)) found.add(probe);
  if (/^[\w-]+$/.test(text)) for (const p of kindsInWords(words(text))) found.add(p);
  const tokens = text.match(isRegex ? /[A-Za-z][A-Za-z0-9_]*/g : /\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/g) ?? [];
  for (const token of tokens) for (const p of kindsInWords(words(token))) found.add(p);
  return [...found];
}

/** Every kind a source file names, with the first place it does so. */
function kindsNamedIn(file: string): Map<KindProbe, string> {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const named = new Map<KindProbe, string>();
  const note = (kinds: KindProbe[], node: ts.Node, what: string): void => {
    for (const k of kinds) {
      if (named.has(k)) continue;
      const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
      named.set(k, `${relative(SRC, file)}:${line + 1} ${what.length > 70 ? `${what.slice(0, 67)}...` : what}`);
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) || ts.isPrivateIdentifier(node)) {
      note(kindsInWords(words(node.text)), node, node.text);
    } else if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) {
      const isModule = ts.isImportDeclaration(node.parent) || ts.isExportDeclaration(node.parent) || (ts.isCallExpression(node.parent) && node.parent.expression.kind === ts.SyntaxKind.ImportKeyword);
      if (isModule && node.text.startsWith('.')) {
        const target = resolve(dirname(file), node.text);
        note(probes.filter((p) => target.startsWith(p.folder + sep)), node, `import '${node.text}'`);
      } else {
        note(kindsInLiteral(node.text, false), node, JSON.stringify(node.text));
      }
    } else if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
      note(kindsInLiteral((node as ts.RegularExpressionLiteral).text, true), node, (node as ts.RegularExpressionLiteral).text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return named;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** For each kind: the files outside its folder and the registry that name it. */
function boundaryViolations(): Record<string, string[]> {
  const registry = join(SRC, 'keys', 'registry.ts');
  const out: Record<string, string[]> = Object.fromEntries(probes.map((p) => [p.type, []]));
  // The build's list of lazily loaded packages too (benchmarks name what they measure, and are left alone).
  const build = join(SRC, '..', 'scripts', 'build.mjs');
  for (const file of [...sourceFiles(SRC).sort(), ...(existsSync(build) ? [build] : [])]) {
    if (file === registry) continue;
    for (const [probe, where] of kindsNamedIn(file)) {
      if (!file.startsWith(probe.folder + sep)) out[probe.type]!.push(where);
    }
  }
  return out;
}

describe('key kind boundaries', () => {
  it('the detector recognises the spellings it is meant to catch', () => {
    const kms = probes.find((p) => p.type === 'kms')!;
    const age = probes.find((p) => p.type === 'age')!;
    const gcp = probes.find((p) => p.type === 'gcp_kms')!;
    expect(kindsInWords(words('KmsSpec'))).toEqual([kms]);
    expect(kindsInWords(words('createAgeKeyKind'))).toEqual([age]);
    expect(kindsInWords(words('gcpKmsKind'))).toEqual([gcp]);
    expect(kindsInWords(words('message'))).toEqual([]);
    expect(kindsInLiteral('--add-kms', false)).toEqual([kms]);
    expect(kindsInLiteral('-a, --age <recipients>', false)).toEqual([age]);
    expect(kindsInLiteral('kms', false)).toEqual([kms]);
    expect(kindsInLiteral('cannot read SOPS_AGE_KEY_FILE', false)).toEqual([age]);
    expect(kindsInLiteral('age1[0-9a-z]+', true)).toEqual([age]);
    expect(kindsInLiteral('no age identities found', false)).toEqual([]);
    expect(kindsInLiteral('--agent', false)).toEqual([]);
  });

  it('names each registered kind only in its own folder and the registry', () => {
    const violations = boundaryViolations();
    const lines = Object.entries(violations).map(([type, files]) => `${type}: ${files.length ? `\n    ${files.join('\n    ')}` : '(none)'}`);
    console.log(`key kinds named outside their folder and src/keys/registry.ts${OTHER_SRC ? ` (in ${SRC})` : ''}:\n  ${lines.join('\n  ')}`);
    if (OTHER_SRC) return;
    expect(violations).toEqual(Object.fromEntries(probes.map((p) => [p.type, []])));
  });
});

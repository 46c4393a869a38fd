import { dirname, isAbsolute, relative } from 'node:path';
import { findConfig } from '../config/find.js';
import { loadConfig } from '../config/resolve.js';
import type { Config } from '../config/types.js';

/**
 * Turns creation rules' `path_regex` into `.gitattributes` patterns that match
 * exactly the same repository paths, or says why a rule cannot be mapped. Only
 * a small, exactly translatable subset is accepted: literal text (with `\`
 * escapes of punctuation), `.*`, `[^/]*`, `[^/]+`, `?` after a character or
 * group, groups of literal alternatives, and the `^`/`$` anchors. Anything else
 * is reported, never approximated: the guard checks the rules directly anyway,
 * so a rule left out here is still enforced.
 */
export interface DerivedPatterns {
  patterns: string[];
  /** One line per rule that could not be mapped. */
  unmapped: string[];
}

/** What `git install` and `init` route to tsops when no config says otherwise. */
const DEFAULT_PATTERNS: readonly string[] = ['*.enc.yaml', '*.enc.yml', '*.enc.json', '*.enc.env', '*.enc.ini'];

/**
 * The patterns for a repository: from the creation rules of the config that
 * applies at its root (SOPS_CONFIG, or the nearest one), or the defaults when
 * there is no config or it has no creation rules.
 */
export async function repositoryPatterns(root: string, env: NodeJS.ProcessEnv): Promise<DerivedPatterns & { configPath?: string }> {
  const configPath = await findConfig({ cwd: root, env });
  const config = configPath ? await loadConfig(configPath) : undefined;
  if (!configPath || !config?.creationRules?.length) return { patterns: [...DEFAULT_PATTERNS], unmapped: [] };
  return { ...patternsFromConfig(config, configPath, root), configPath };
}

/** More alternatives than this in one regex: reported instead of expanded. */
const MAX_EXPANSIONS = 16;

type Piece = { kind: 'lit'; text: string } | { kind: 'any' } | { kind: 'seg'; min: 0 | 1 };

class Unmappable extends Error {}

/** Patterns for every rule of the config at `configPath`, relative to the repository `root`. */
function patternsFromConfig(config: Config, configPath: string, root: string): DerivedPatterns {
  const out: DerivedPatterns = { patterns: [], unmapped: [] };
  const base = relative(root, dirname(configPath)).split('\\').join('/');
  const outside = base.startsWith('..') || isAbsolute(base);
  for (const rule of config.creationRules ?? []) {
    const name = `creation rule ${rule.index + 1} (line ${rule.line})`;
    if (rule.pathRegex === undefined) {
      out.unmapped.push(`${name} has no path_regex (it matches every file)`);
      continue;
    }
    if (outside) {
      out.unmapped.push(`${name}: the config is outside the repository`);
      continue;
    }
    try {
      for (const p of regexToGlobs(rule.pathRegex, base)) if (!out.patterns.includes(p)) out.patterns.push(p);
    } catch (e) {
      if (!(e instanceof Unmappable)) throw e;
      out.unmapped.push(`${name}: path_regex ${JSON.stringify(rule.pathRegex)} ${e.message}`);
    }
  }
  return out;
}

/** The gitattributes patterns (relative to the repository root) matching exactly the paths under `base` the regex finds a match in. */
function regexToGlobs(regex: string, base = ''): string[] {
  const anchoredStart = regex.startsWith('^');
  const anchoredEnd = regex.endsWith('$') && !regex.endsWith('\\$');
  const body = regex.slice(anchoredStart ? 1 : 0, anchoredEnd ? -1 : undefined);
  const globs: string[] = [];
  for (const seq of expand(body)) {
    const pieces: Piece[] = [...(anchoredStart ? [] : [{ kind: 'any' } as Piece]), ...seq, ...(anchoredEnd ? [] : [{ kind: 'any' } as Piece])];
    const first = pieces[0];
    if (first?.kind === 'lit' && first.text.startsWith('/')) throw new Unmappable('matches only absolute paths (files outside the config directory)');
    for (const g of toGlobs(merge(pieces))) {
      const full = base ? `${base}/${g}` : rootRelative(g);
      if (!globs.includes(full)) globs.push(full);
    }
  }
  return globs;
}

/** Every literal expansion of the regex body, as piece sequences. */
function expand(body: string): Piece[][] {
  let results: Piece[][] = [[]];
  let i = 0;
  const append = (alternatives: Piece[][]): void => {
    const next: Piece[][] = [];
    for (const r of results) for (const a of alternatives) next.push([...r, ...a]);
    if (next.length > MAX_EXPANSIONS) throw new Unmappable('has too many alternatives to list');
    results = next;
  };
  while (i < body.length) {
    let alternatives: Piece[][];
    const c = body[i]!;
    if (body.startsWith('.*', i)) {
      alternatives = [[{ kind: 'any' }]];
      i += 2;
    } else if (body.startsWith('[^/]*', i) || body.startsWith('[^/]+', i)) {
      alternatives = [[{ kind: 'seg', min: body[i + 4] === '+' ? 1 : 0 }]];
      i += 5;
    } else if (c === '(') {
      const close = body.indexOf(')', i);
      if (close < 0) throw new Unmappable('cannot be expressed as a glob');
      let inner = body.slice(i + 1, close);
      if (inner.startsWith('?:')) inner = inner.slice(2);
      alternatives = inner.split('|').flatMap((alt) => expand(alt));
      i = close + 1;
    } else if (c === '\\') {
      alternatives = [[{ kind: 'lit', text: literal(body.slice(i, i + 2)) }]];
      i += 2;
    } else {
      alternatives = [[{ kind: 'lit', text: literal(c) }]];
      i += 1;
    }
    if (body[i] === '?') {
      alternatives = [...alternatives, [{ kind: 'lit', text: '' }]];
      i += 1;
    }
    if (body[i] === '*' || body[i] === '+' || body[i] === '?' || body[i] === '{') throw new Unmappable('cannot be expressed as a glob');
    append(alternatives);
  }
  return results;
}

/** Literal regex text to plain text; anything that is not literal, or that a glob would read specially, is unmappable. */
function literal(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    let c = text[i]!;
    if (c === '\\') {
      c = text[++i] ?? '';
      if (!/^[-./_~@%,:=+#!]$/.test(c)) throw new Unmappable('cannot be expressed as a glob');
    } else if ('.[]{}()*+?|^$'.includes(c)) {
      throw new Unmappable('cannot be expressed as a glob');
    }
    if (!/^[A-Za-z0-9._\-/~@%,:=+]$/.test(c)) throw new Unmappable(`uses a character (${JSON.stringify(c)}) a .gitattributes pattern cannot hold plainly`);
    out += c;
  }
  return out;
}

/** Adjacent literals joined, runs of `.*` folded. */
function merge(pieces: Piece[]): Piece[] {
  const out: Piece[] = [];
  for (const p of pieces) {
    const last = out[out.length - 1];
    if (p.kind === 'lit' && p.text === '') continue;
    if (p.kind === 'lit' && last?.kind === 'lit') last.text += p.text;
    else if (p.kind === 'any' && last?.kind === 'any') continue;
    else out.push(p.kind === 'lit' ? { ...p } : p);
  }
  return out;
}

/**
 * Globs for one piece sequence. `.*` crosses slashes: in the middle it is
 * `*` (no slash in it) or `*` `/**\/` `*` (one or more), which fold into one
 * `**` where a slash already borders it; at the start `**\/*`, at the end
 * `*` or `*` `/**`.
 */
function toGlobs(pieces: Piece[]): string[] {
  let globs = [''];
  const add = (...alts: string[]): void => {
    globs = globs.flatMap((g) => alts.map((a) => g + a));
  };
  pieces.forEach((p, k) => {
    const prev = pieces[k - 1];
    const next = pieces[k + 1];
    if (p.kind === 'lit') return add(p.text);
    if (p.kind === 'seg') return add(p.min ? '?*' : '*');
    const afterSlash = k === 0 || (prev?.kind === 'lit' && prev.text.endsWith('/'));
    const beforeSlash = next?.kind === 'lit' && next.text.startsWith('/');
    if (k === 0 && next === undefined) throw new Unmappable('matches every file');
    if (next === undefined) return add(afterSlash ? '**' : '*', ...(afterSlash ? [] : ['*/**']));
    if (next.kind !== 'lit') throw new Unmappable('cannot be expressed as a glob');
    if (afterSlash) return add('**/*');
    if (beforeSlash) return add('*/**');
    return add('*', '*/**/*');
  });
  return globs;
}

/**
 * A glob for the repository root as .gitattributes reads it: one without a
 * slash matches a file name at any depth, so `**\/NAME` becomes `NAME` and a
 * single root-level component is anchored with a leading `/`.
 */
function rootRelative(glob: string): string {
  if (glob.startsWith('**/') && !glob.slice(3).includes('/')) return glob.slice(3);
  return glob.includes('/') ? glob : `/${glob}`;
}

/**
 * Every regular expression that comes from a file or a config (path_regex,
 * the suffix/regex encryption rules, destination rules) is written for Go's
 * RE2, as sops compiles it, and may be written by someone hostile. RE2's
 * engine matches in time linear in the input whatever the pattern, and speaks
 * Go's syntax (`\-`, inline `(?i)` anywhere), so both the hang and the
 * JavaScript-vs-Go mismatch go away by using it instead of RegExp.
 *
 * re2js costs about 13 ms to load, so it is required on first use only: a
 * decrypt of a file with the default suffix rule never loads it.
 */
import { createRequire } from 'node:module';

export interface LinearRegex {
  readonly source: string;
  /** True when the pattern matches anywhere in `text` (Go's MatchString). */
  test(text: string): boolean;
}

/** A pattern RE2 refuses; `message` is Go's own wording ("error parsing regexp: …"). */
export class RegexSyntaxError extends Error {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(message);
    this.name = 'RegexSyntaxError';
  }
}

type Re2Module = typeof import('re2js');
let re2: Re2Module | undefined;

function engine(): Re2Module {
  // A synchronous require on first use keeps re2js out of start-up: the CLI
  // bundle (CommonJS) bundles it behind this call, and the ES module library
  // loads it from node_modules.
  re2 ??= (typeof require === 'function' ? require('re2js') : createRequire(import.meta.url)('re2js')) as Re2Module;
  return re2;
}

const compiled = new Map<string, LinearRegex>();

/** Compiles an RE2 (Go syntax) pattern; throws RegexSyntaxError when RE2 would refuse it. */
export function compileRe2(source: string): LinearRegex {
  const cached = compiled.get(source);
  if (cached) return cached;
  const { RE2JS } = engine();
  let pattern: InstanceType<Re2Module['RE2JS']>;
  try {
    pattern = RE2JS.compile(source);
  } catch (e) {
    throw new RegexSyntaxError(source, (e as Error).message || 'error parsing regexp');
  }
  const regex: LinearRegex = { source, test: (text) => pattern.test(text) };
  compiled.set(source, regex);
  return regex;
}

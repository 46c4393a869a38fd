import { InputError } from '../../errors.js';

/**
 * Line and column lookups and error messages. Messages name the problem and
 * its place only: the `yaml` package's own messages may quote source text (a
 * secret, possibly), so they are mapped to fixed wordings here.
 */
export class SourcePositions {
  private readonly lineStarts: number[] = [0];

  constructor(source: string) {
    // A byte order mark takes no column.
    if (source.startsWith('\ufeff')) this.lineStarts[0] = 1;
    for (let i = source.indexOf('\n'); i >= 0; i = source.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  /** 1-based line and column of an offset. */
  at(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo]! + 1 };
  }

  /** 0-based column of an offset. */
  column(offset: number): number {
    return this.at(offset).column - 1;
  }

  line(offset: number): number {
    return this.at(offset).line;
  }
}

export function yamlError(positions: SourcePositions, message: string, offset: number, file?: string): InputError {
  const { line, column } = positions.at(offset);
  return new InputError(`invalid YAML at line ${line}, column ${column}: ${message}`, file === undefined ? undefined : { file });
}

const SCALAR_PROBLEMS: Record<string, string> = {
  BAD_SCALAR_START: 'a plain value cannot start with a reserved character (quote it)',
  MISSING_CHAR: 'a quoted value or block scalar is not closed properly',
  BAD_DQ_ESCAPE: 'invalid escape sequence in a double-quoted value',
  BAD_INDENT: 'bad indentation of a block scalar',
  UNEXPECTED_TOKEN: 'unexpected characters after a value',
  MULTILINE_IMPLICIT_KEY: 'a key must fit on one line',
  TAB_AS_INDENT: 'tabs are not allowed as indentation',
};

/** A fixed wording for an error code from the `yaml` package's scalar resolution. */
export function scalarProblem(code: string): string {
  return (Object.hasOwn(SCALAR_PROBLEMS, code) ? SCALAR_PROBLEMS[code] : undefined) ?? 'malformed value';
}

/** A fixed wording for a parser error token (whose own message may quote the source). */
export function parserProblem(message: string): string {
  const unexpected = /^Unexpected ([a-z-]+)(?: token)? (?:in|on)/.exec(message);
  if (unexpected) return `unexpected ${unexpected[1]!.replace(/-/g, ' ')}`;
  if (message.startsWith('Not a YAML token')) return 'not a YAML token';
  return 'syntax error';
}

/**
 * go-yaml's directive rules, which sops reads with: `%YAML 1.1` at most once,
 * `%TAG !handle! prefix` once per handle, nothing else. A directive is
 * structure (like a key), never a value; anything else on a `%` line is an
 * error rather than text to carry into the output unencrypted. Returns the
 * problem, or undefined when the directive is valid; `seen` collects what the
 * current document's directives declared.
 */
export function directiveProblem(source: string, seen: Set<string>): string | undefined {
  const words = source.slice(1).split(/[ \t]+/);
  const [name, ...args] = words;
  if (name === 'YAML') {
    if (args.length !== 1 || !/^[0-9]+\.[0-9]+$/.test(args[0]!)) return 'malformed %YAML directive';
    if (seen.has('%YAML')) return 'duplicate %YAML directive';
    seen.add('%YAML');
    // go-yaml (and so sops) reads YAML 1.1 documents only.
    return args[0] === '1.1' ? undefined : 'incompatible YAML version (go-yaml reads %YAML 1.1 only)';
  }
  if (name === 'TAG') {
    const [handle, prefix] = args;
    if (args.length !== 2 || !/^!(?:[0-9A-Za-z_-]*!)?$/.test(handle!) || !/^[0-9A-Za-z;/?:@&=+$,._~*'()[\]%!-]+$/.test(prefix!)) {
      return 'malformed %TAG directive';
    }
    if (seen.has(handle!)) return 'duplicate %TAG directive';
    seen.add(handle!);
    return undefined;
  }
  return 'unknown directive (only %YAML and %TAG exist)';
}

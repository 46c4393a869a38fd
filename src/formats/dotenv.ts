import { EmitError, InputError } from '../errors.js';
import { valueToString } from '../values.js';
import type { Comment, Entry, MapNode, Node, ParsedFile, Scalar } from '../tree.js';
import { flattenMetadata, unflattenMetadata } from './flatten.js';
import type { Format } from './format.js';

/**
 * dotenv (docs/format.md#dotenv). A file holding `sops_*` lines is read exactly as sops
 * reads it (`KEY=VALUE`, nothing trimmed, `\n` escapes), so keys and values
 * hash and authenticate the same, and is written back the same way. A
 * plaintext file is read as the dotenv package reads it (CRLF line endings,
 * `export `, spaces around `=`, quoted values, `#` comments after an unquoted
 * value), and plaintext is written quoted so that dotenv and dotenvx read
 * back exactly the values it holds. Comments and blank lines keep their
 * place, and a plaintext line whose value did not change is written back as
 * it was read.
 */

/** Where an item came from: the blank lines above it and its source text. */
interface LineOrigin {
  blankBefore: string[];
  raw: string;
  /** Read by sops's rules (a file with metadata) rather than dotenv's. */
  sopsGrammar: boolean;
  key?: string;
  value?: unknown;
}

interface DotenvLayout {
  /** Blank lines after the last item (before any metadata lines). */
  trailingBlank: string[];
  finalNewline: boolean;
  /** Plaintext read with CRLF line endings, written back with them. */
  crlf: boolean;
}

const META_PREFIX = 'sops_';

export function parseDotenv(input: Uint8Array, file?: string): ParsedFile {
  const source = Buffer.from(input).toString('utf8');
  const encrypted = /^sops_[^\n]*=/m.test(source);
  // dotenv reads CRLF and lone CR as line ends; sops splits on LF only and keeps a CR in the value.
  // A file using CRLF throughout is written back with it; a mixed one is written LF.
  const crlf = !encrypted && source.includes('\r\n') && !/\r(?!\n)|(?<!\r)\n/.test(source);
  const text = encrypted ? source : source.replace(/\r\n?/g, '\n');
  const lines = text.split('\n');
  const finalNewline = text.endsWith('\n');
  if (finalNewline || text === '') lines.pop();
  const doc: MapNode = { kind: 'map', items: [] };
  const metadata: [string, string][] = [];
  let blank: string[] = [];
  const fail = (lineNumber: number, why: string): never => {
    throw new InputError(`invalid dotenv at line ${lineNumber}: ${why}`, file === undefined ? undefined : { file });
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '' || (!encrypted && line.trim() === '')) {
      blank.push(line);
      continue;
    }
    const commentLine = encrypted ? line.startsWith('#') : line.trimStart().startsWith('#');
    if (commentLine) {
      const origin: LineOrigin = { blankBefore: blank, raw: line, sopsGrammar: encrypted };
      const comment: Comment = { kind: 'comment', text: line.trimStart().slice(1), origin };
      doc.items.push(comment);
      blank = [];
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) fail(i + 1, 'expected KEY=VALUE');
    const first = i;
    let key: string;
    let value: string;
    if (encrypted) {
      key = line.slice(0, eq);
      value = unescapeNewlines(line.slice(eq + 1));
    } else {
      key = line.slice(0, eq).trim().replace(/^export\s+(?=\S)/, '');
      if (key === '') fail(i + 1, 'empty key');
      const read = readPlainValue(lines, i, eq + 1);
      value = read.value;
      // Refused here rather than after encryption, when decrypting would fail to write it.
      if (!writableAsDotenv(value)) fail(i + 1, 'this value mixes quotes so that no dotenv quoting writes it back; quote it differently');
      i = read.lastLine;
    }
    if (key.startsWith(META_PREFIX)) {
      // Metadata lines are not part of the document; blank lines around them stay with what follows.
      metadata.push([key.slice(META_PREFIX.length), value]);
      continue;
    }
    const raw = lines.slice(first, i + 1).join('\n');
    const entry: Entry = {
      kind: 'entry',
      key,
      value: { kind: 'scalar', type: 'str', value },
      origin: { blankBefore: blank, raw, sopsGrammar: encrypted, key, value } satisfies LineOrigin,
    };
    doc.items.push(entry);
    blank = [];
  }
  const layout: DotenvLayout = { trailingBlank: blank, finalNewline, crlf };
  const parsed: ParsedFile = { format: 'dotenv', documents: [doc], layout };
  if (metadata.length) parsed.metadata = unflattenMetadata(metadata);
  return parsed;
}

interface PlainValue {
  value: string;
  lastLine: number;
}

const QUOTES = `'"\``;

/**
 * The value of a plaintext line starting at `start`, as the dotenv package
 * reads it: a quoted value may run over several lines and closes at a quote
 * followed by nothing but spaces and a `#` comment; anything else is read
 * unquoted, up to the first `#`, trimmed. Double quotes turn `\n` and `\r`
 * into line breaks; nothing else is an escape.
 */
function readPlainValue(lines: string[], lineIndex: number, start: number): PlainValue {
  const rest = lines[lineIndex]!.slice(start);
  const body = rest.trimStart();
  const quote = body[0];
  if (quote !== undefined && QUOTES.includes(quote)) {
    const quoted = readQuoted(lines, lineIndex, body, quote);
    if (quoted) return quoted;
  }
  let value = (/^[^#]*/.exec(rest)![0]).trim();
  const wrapped = /^(['"`])([\s\S]*)\1$/.exec(value);
  if (wrapped) value = wrapped[2]!;
  if (quote === '"') value = unescapeDoubleQuoted(value);
  return { value, lastLine: lineIndex };
}

/** The quoted value opening `body`, or undefined when no closing quote ends a line. */
function readQuoted(lines: string[], lineIndex: number, body: string, quote: string): PlainValue | undefined {
  // dotenv's pattern runs to the first unescaped quote, then backs off to escaped ones: gather lines up to it.
  const gathered = [body.slice(1)];
  let last = lineIndex;
  // An escaping backslash and its quote sit on one line, so each line is searched once.
  while (firstUnescaped(gathered[gathered.length - 1]!, quote) < 0 && last + 1 < lines.length) {
    last++;
    gathered.push(lines[last]!);
  }
  const text = gathered.join('\n');
  for (const end of closingCandidates(text, quote)) {
    const lineEnd = text.indexOf('\n', end);
    if (!isTrailer(text.slice(end + 1, lineEnd < 0 ? undefined : lineEnd))) continue;
    const inner = text.slice(0, end);
    const closingLine = lineIndex + (inner.match(/\n/g)?.length ?? 0);
    return { value: quote === '"' ? unescapeDoubleQuoted(inner) : inner, lastLine: closingLine };
  }
  return undefined;
}

/**
 * Where a quoted value may close, in the order dotenv's pattern tries them:
 * the first unescaped quote, then backslash-escaped quotes before it, last first.
 */
function closingCandidates(text: string, quote: string): number[] {
  const escaped: number[] = [];
  for (let k = 0; k < text.length; k++) {
    if (text[k] === '\\' && text[k + 1] === quote) {
      escaped.push(k + 1);
      k++;
    } else if (text[k] === quote) return [k, ...escaped.reverse()];
  }
  return escaped.reverse();
}

function firstUnescaped(text: string, quote: string): number {
  for (let k = 0; k < text.length; k++) {
    if (text[k] === '\\' && text[k + 1] === quote) k++;
    else if (text[k] === quote) return k;
  }
  return -1;
}

/** What may follow a closing quote on its line: spaces, then optionally a `#` comment. */
function isTrailer(text: string): boolean {
  const t = text.trimStart();
  return t === '' || t.startsWith('#');
}

function unescapeDoubleQuoted(text: string): string {
  return text.replace(/\\n/g, '\n').replace(/\\r/g, '\r');
}

/** sops's only escape: backslash-n is a newline, read left to right. */
function unescapeNewlines(text: string): string {
  return text.replace(/\\n/g, '\n');
}

/**
 * One value as sops writes it in a file with metadata: its text form with
 * newlines as `\n`, nothing quoted.
 */
function formatSopsValue(node: Scalar): string {
  return valueToString(node).replace(/\n/g, '\\n');
}

/** Text the dotenv package and dotenvx both read back unchanged without quotes. */
const BARE = /^(?:[^\s'"`#$\\][^\n\r'"`#$\\]*)?$/;
/** Text the dotenv package reads back unchanged without quotes (dotenvx expands its `$`). */
const BARE_FOR_DOTENV = /^[^\s'"`#][^\n\r#]*$/;

const singleQuoted = (text: string): string => `'${text}'`;
const doubleQuoted = (text: string): string => `"${text.replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
const backQuoted = (text: string): string => `\`${text}\``;

/**
 * One plaintext value, written so that the dotenv package and dotenvx read
 * back exactly this text: bare where nothing needs quoting, else single
 * quotes (no escapes, no `${}` expansion), else double quotes with `\n`/`\r`
 * escapes, else backquotes. A value holding `$` beside a single quote or a
 * carriage return cannot escape dotenvx's expansion; it is written as the
 * dotenv package reads it. A value no quoting carries is refused rather
 * than changed.
 */
export function formatDotenvValue(node: Node, key?: string): string {
  if (node.kind !== 'scalar') throw new EmitError('dotenv cannot hold nested values');
  const text = valueToString(node);
  const trimmed = text === text.trim();
  // dotenv reads a backslash before a closing quote as escaping it, and looks for a later quote.
  const quotable = !text.endsWith('\\');
  if (BARE.test(text) && trimmed) return text;
  if (quotable && !/['\r]/.test(text)) return singleQuoted(text);
  if (quotable && !/["$\\]/.test(text)) return doubleQuoted(text);
  if (quotable && !/[`$\r]/.test(text)) return backQuoted(text);
  if (BARE_FOR_DOTENV.test(text) && trimmed) return text;
  if (quotable && !/"|\\[nr]/.test(text)) return doubleQuoted(text);
  if (quotable && !/[`\r]/.test(text)) return backQuoted(text);
  const named = key === undefined ? '' : ` (key ${JSON.stringify(key)})`;
  throw new EmitError(`no dotenv quoting keeps this value as it is${named}: it mixes quotes with a carriage return or a final backslash; write it as YAML or JSON`);
}

function writableAsDotenv(text: string): boolean {
  try {
    formatDotenvValue({ kind: 'scalar', type: 'str', value: text });
    return true;
  } catch {
    return false;
  }
}

function checkKey(key: string, withMetadata: boolean): void {
  const shown = JSON.stringify(key);
  if (key === '') throw new EmitError('dotenv cannot hold an empty key');
  if (/[=\n]/.test(key)) throw new EmitError(`dotenv keys cannot contain '=' or a newline (key ${shown})`);
  if (key.startsWith('#')) throw new EmitError(`dotenv keys cannot start with '#' (key ${shown})`);
  if (withMetadata && key.startsWith(META_PREFIX)) throw new EmitError(`key ${shown} would be read back as sops metadata`);
}

function commentLines(text: string): string[] {
  return text.split('\n').map((line) => `#${line}`);
}

function emitDotenv(file: ParsedFile): Uint8Array {
  if (file.documents.length > 1) throw new EmitError('dotenv holds one document; this file has several');
  const doc: MapNode = file.documents[0] ?? { kind: 'map', items: [] };
  const layout = file.format === 'dotenv' ? (file.layout as DotenvLayout | undefined) : undefined;
  const withMetadata = file.metadata !== undefined;
  // sops reads a whitespace-only line as a broken entry, so blank lines of a file with metadata are written empty.
  const blankLines = (lines: string[]): string[] => (withMetadata ? lines.map(() => '') : lines);
  const out: string[] = [];
  for (const item of doc.items) {
    const origin = layout ? (item.origin as LineOrigin | undefined) : undefined;
    if (origin) out.push(...blankLines(origin.blankBefore));
    // A line is copied only into a file read by the same rules it was read with.
    const sameGrammar = origin !== undefined && origin.sopsGrammar === withMetadata;
    if (item.kind === 'comment') {
      const unchanged = sameGrammar && origin.raw.trimStart().slice(1) === item.text;
      out.push(...(unchanged ? [origin.raw] : commentLines(item.text)));
      continue;
    }
    if (item.value.kind !== 'scalar') throw new EmitError(`dotenv cannot hold nested values (key ${JSON.stringify(item.key)})`);
    checkKey(item.key, withMetadata);
    const value = item.value;
    // A file with metadata is always written in sops's canonical form: a kept `KEY=""` would not read back as sops reads it.
    const unchanged = !withMetadata && sameGrammar && origin.key === item.key && value.type === 'str' && origin.value === value.value;
    out.push(unchanged ? origin.raw : `${item.key}=${withMetadata ? formatSopsValue(value) : formatDotenvValue(value, item.key)}`);
  }
  if (layout) out.push(...blankLines(layout.trailingBlank));
  if (file.metadata) {
    for (const [key, value] of flattenMetadata(file.metadata)) out.push(`${META_PREFIX}${key}=${value.replace(/\n/g, '\\n')}`);
  }
  const finalNewline = withMetadata || !layout || layout.finalNewline;
  const eol = !withMetadata && layout?.crlf ? '\r\n' : '\n';
  const text = out.join('\n') + (out.length > 0 && finalNewline ? '\n' : '');
  return Buffer.from(eol === '\n' ? text : text.replace(/\n/g, eol), 'utf8');
}

export const dotenvFormat: Format = {
  name: 'dotenv',
  parse: (input, options) => parseDotenv(input, options?.file),
  emit: (file) => emitDotenv(file),
};

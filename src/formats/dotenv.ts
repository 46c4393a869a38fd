import { EmitError, InputError } from '../errors.js';
import { valueToString } from '../values.js';
import type { Comment, Entry, MapNode, Node, ParsedFile } from '../tree.js';
import { flattenMetadata, unflattenMetadata } from './flatten.js';
import type { Format } from './format.js';

/**
 * dotenv (docs/format.md#dotenv). A file holding `sops_*` lines is read exactly as sops
 * reads it (`KEY=VALUE`, nothing trimmed, `\n` escapes), so keys and values
 * hash and authenticate the same. A plaintext file may also use the common
 * dotenv grammar: `export `, quoted values with escapes, multi-line
 * double-quoted values. Comments and blank lines keep their place, and a line
 * whose value did not change is written back as it was read.
 */

/** Where an item came from: the blank lines above it and its source text. */
interface LineOrigin {
  blankBefore: string[];
  raw: string;
  key?: string;
  value?: unknown;
}

interface DotenvLayout {
  /** Blank lines after the last item (before any metadata lines). */
  trailingBlank: string[];
  finalNewline: boolean;
}

const META_PREFIX = 'sops_';

export function parseDotenv(input: Uint8Array, file?: string): ParsedFile {
  const text = Buffer.from(input).toString('utf8');
  const lines = text.split('\n');
  const finalNewline = text.endsWith('\n');
  if (finalNewline || text === '') lines.pop();
  const encrypted = lines.some((line) => line.startsWith(META_PREFIX) && line.includes('='));
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
      const comment: Comment = { kind: 'comment', text: line.trimStart().slice(1), origin: { blankBefore: blank, raw: line } satisfies LineOrigin };
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
      key = line.slice(0, eq).trim().replace(/^export\s+/, '').trim();
      if (key === '') fail(i + 1, 'empty key');
      const read = readPlainValue(lines, i, eq + 1);
      if ('error' in read) fail(i + 1, read.error);
      else {
        value = read.value;
        i = read.lastLine;
      }
    }
    if (key.startsWith(META_PREFIX)) {
      // Metadata lines are not part of the document; blank lines around them stay with what follows.
      metadata.push([key.slice(META_PREFIX.length), value!]);
      continue;
    }
    const raw = lines.slice(first, i + 1).join('\n');
    const entry: Entry = {
      kind: 'entry',
      key,
      value: { kind: 'scalar', type: 'str', value: value! },
      origin: { blankBefore: blank, raw, key, value: value! } satisfies LineOrigin,
    };
    doc.items.push(entry);
    blank = [];
  }
  const layout: DotenvLayout = { trailingBlank: blank, finalNewline };
  const parsed: ParsedFile = { format: 'dotenv', documents: [doc], layout };
  if (metadata.length) parsed.metadata = unflattenMetadata(metadata);
  return parsed;
}

type PlainValue = { value: string; lastLine: number } | { error: string };

/** The value of a plaintext line starting at `start`; a double-quoted value may run over several lines. */
function readPlainValue(lines: string[], lineIndex: number, start: number): PlainValue {
  const rest = lines[lineIndex]!.slice(start);
  const body = rest.trimStart();
  if (body.startsWith('"')) {
    let text = body.slice(1);
    let last = lineIndex;
    let end = closingQuote(text);
    while (end < 0 && last + 1 < lines.length) {
      last++;
      text += '\n' + lines[last];
      end = closingQuote(text);
    }
    if (end < 0) return { error: 'unterminated double-quoted value' };
    const after = text.slice(end + 1);
    if (!isTrailer(after)) return { error: 'unexpected text after the closing quote' };
    return { value: unescapeDoubleQuoted(text.slice(0, end)), lastLine: last };
  }
  const trimmedEnd = body.trimEnd();
  if (trimmedEnd.length > 1 && trimmedEnd.startsWith("'") && trimmedEnd.endsWith("'")) {
    return { value: trimmedEnd.slice(1, -1), lastLine: lineIndex };
  }
  return { value: unescapeNewlines(rest), lastLine: lineIndex };
}

/** What may follow a closing quote: spaces, then optionally a `#` comment. */
function isTrailer(text: string): boolean {
  const t = text.trimStart();
  return t === '' || t.startsWith('#');
}

function closingQuote(text: string): number {
  for (let k = 0; k < text.length; k++) {
    if (text[k] === '\\') k++;
    else if (text[k] === '"') return k;
  }
  return -1;
}

const DOUBLE_QUOTED_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };

function unescapeDoubleQuoted(text: string): string {
  return text.replace(/\\([nrt"\\])/g, (_match, c: string) => DOUBLE_QUOTED_ESCAPES[c]!);
}

/** sops's only escape: backslash-n is a newline, read left to right. */
function unescapeNewlines(text: string): string {
  return text.replace(/\\n/g, '\n');
}

/**
 * One value as a dotenv line holds it: sops's text form with newlines as
 * `\n`. A string our plaintext grammar would misread (one starting with a
 * quote, or holding a literal backslash-n) is double-quoted so it reads back
 * unchanged.
 */
export function formatDotenvValue(node: Node): string {
  if (node.kind !== 'scalar') throw new EmitError('dotenv cannot hold nested values');
  const text = valueToString(node);
  if (node.type === 'str' && (/^\s*["']/.test(text) || text.includes('\\n'))) {
    return '"' + text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r') + '"';
  }
  return text.replace(/\n/g, '\\n');
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
    if (item.kind === 'comment') {
      const unchanged = origin !== undefined && origin.raw.trimStart().slice(1) === item.text;
      out.push(...(unchanged ? [origin.raw] : commentLines(item.text)));
      continue;
    }
    if (item.value.kind !== 'scalar') throw new EmitError(`dotenv cannot hold nested values (key ${JSON.stringify(item.key)})`);
    checkKey(item.key, withMetadata);
    const value = item.value;
    const unchanged = origin !== undefined && origin.key === item.key && value.type === 'str' && origin.value === value.value;
    out.push(unchanged ? origin.raw : `${item.key}=${formatDotenvValue(value)}`);
  }
  if (layout) out.push(...blankLines(layout.trailingBlank));
  if (file.metadata) {
    for (const [key, value] of flattenMetadata(file.metadata)) out.push(`${META_PREFIX}${key}=${value.replace(/\n/g, '\\n')}`);
  }
  const finalNewline = withMetadata || !layout || layout.finalNewline;
  const text = out.join('\n') + (out.length > 0 && finalNewline ? '\n' : '');
  return Buffer.from(text, 'utf8');
}

export const dotenvFormat: Format = {
  name: 'dotenv',
  parse: (input, options) => parseDotenv(input, options?.file),
  emit: (file) => emitDotenv(file),
};

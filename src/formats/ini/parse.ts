import { InputError } from '../../errors.js';
import type { Comment, Entry, MapNode, ParsedFile } from '../../tree.js';
import { unflattenMetadata } from '../flatten.js';

/**
 * INI reading with go-ini's default rules (docs/format.md#ini), as sops loads INI with
 * non-unique sections allowed. Lines are read with their line break, because
 * go-ini's multi-line values keep the breaks of the lines they span.
 */

export const DEFAULT_SECTION = 'DEFAULT';
export const METADATA_SECTION = 'sops';

interface RawKey {
  name: string;
  value: string;
  comment: string;
}

interface RawSection {
  name: string;
  comment: string;
  keys: Map<string, RawKey>;
}

class LineReader {
  private readonly lines: string[];
  private next = 0;

  constructor(text: string) {
    this.lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  }

  /** The next line with its line break, or undefined at the end. */
  read(): string | undefined {
    return this.lines[this.next++];
  }

  /** 1-based number of the line read last. */
  get lineNumber(): number {
    return Math.min(this.next, this.lines.length);
  }
}

class IniSyntaxError extends Error {}

export function parseIni(input: Uint8Array, file?: string): ParsedFile {
  const text = Buffer.from(input).toString('utf8').replace(/^\uFEFF/, '');
  const reader = new LineReader(text);
  try {
    return toParsedFile(readSections(reader));
  } catch (e) {
    if (!(e instanceof IniSyntaxError)) throw e;
    throw new InputError(`invalid INI at line ${reader.lineNumber}: ${e.message}`, file === undefined ? undefined : { file });
  }
}

function readSections(reader: LineReader): RawSection[] {
  const sections: RawSection[] = [{ name: DEFAULT_SECTION, comment: '', keys: new Map() }];
  let section = sections[0]!;
  // Comment lines collect here until the next section header or key claims them.
  let pending = '';
  for (let raw = reader.read(); raw !== undefined; raw = reader.read()) {
    const line = raw.trimStart();
    if (line === '') continue;
    if (line[0] === '#' || line[0] === ';') {
      pending += line;
      continue;
    }
    if (line[0] === '[') {
      const close = line.lastIndexOf(']');
      if (close < 0) throw new IniSyntaxError('unclosed section header');
      const name = line.slice(1, close);
      if (name === '') throw new IniSyntaxError('empty section name');
      pending += commentFrom(line.slice(close + 1));
      section = { name, comment: pending.trim(), keys: new Map() };
      sections.push(section);
      pending = '';
      continue;
    }
    const { name, offset } = readKeyName(line);
    const read = readValue(line.slice(offset), reader);
    pending += read.comment;
    const existing = section.keys.get(name);
    // A repeated key keeps its first place and takes the last value and comment.
    if (existing) {
      existing.value = read.value;
      existing.comment = pending.trim();
    } else {
      section.keys.set(name, { name, value: read.value, comment: pending.trim() });
    }
    pending = '';
  }
  return sections;
}

function commentFrom(text: string): string {
  const at = indexOfAny(text, '#;');
  return at < 0 ? '' : text.slice(at);
}

function indexOfAny(text: string, chars: string): number {
  for (let i = 0; i < text.length; i++) if (chars.includes(text[i]!)) return i;
  return -1;
}

function readKeyName(line: string): { name: string; offset: number } {
  const quote = line[0] === '"' ? (line.length > 6 && line.startsWith('"""') ? '"""' : '"') : line[0] === '`' ? '`' : '';
  let name: string;
  let offset: number;
  if (quote) {
    const close = line.indexOf(quote, quote.length);
    if (close < 0) throw new IniSyntaxError('missing closing key quote');
    const separator = indexOfAny(line.slice(close + quote.length), '=:');
    if (separator < 0) throw new IniSyntaxError('expected key = value');
    name = line.slice(quote.length, close).trim();
    offset = close + quote.length + separator + 1;
  } else {
    const separator = indexOfAny(line, '=:');
    if (separator < 0) throw new IniSyntaxError('expected key = value');
    name = line.slice(0, separator).trim();
    offset = separator + 1;
  }
  if (name === '') throw new IniSyntaxError('empty key name');
  return { name, offset };
}

interface ValueRead {
  value: string;
  /** An inline comment, with its marker, to add to the key's comment. */
  comment: string;
}

function readValue(input: string, reader: LineReader): ValueRead {
  const line = input.trimStart();
  if (line === '') return { value: '', comment: '' };
  const quote = line.length > 3 && line.startsWith('"""') ? '"""' : line[0] === '`' ? '`' : '';
  if (quote) {
    const body = line.slice(quote.length);
    const close = body.lastIndexOf(quote);
    return close < 0 ? readMultiline(body, quote, reader) : { value: body.slice(0, close), comment: '' };
  }
  let value = line.trim();
  if (value.endsWith('\\')) return { value: readContinuation(value.slice(0, -1), reader), comment: '' };
  let comment = '';
  const inline = indexOfAny(value, '#;');
  if (inline >= 0) {
    comment = value.slice(inline);
    value = value.slice(0, inline).trim();
  }
  if (hasSurroundingQuote(value, "'") || hasSurroundingQuote(value, '"')) value = value.slice(1, -1);
  return { value, comment };
}

function readMultiline(first: string, quote: string, reader: LineReader): ValueRead {
  let value = first;
  for (;;) {
    const next = reader.read();
    if (next === undefined) throw new IniSyntaxError(`unterminated ${quote} value`);
    const close = next.lastIndexOf(quote);
    if (close >= 0) return { value: value + next.slice(0, close), comment: commentFrom(next.slice(close)).trim() };
    value += next;
    if (!next.endsWith('\n')) throw new IniSyntaxError(`unterminated ${quote} value`);
  }
}

/** A trailing backslash joins the next trimmed line; an empty line or the end stops it. */
function readContinuation(first: string, reader: LineReader): string {
  let value = first;
  for (;;) {
    const next = reader.read()?.trim() ?? '';
    if (next === '') return value;
    value += next;
    if (!value.endsWith('\\')) return value;
    value = value.slice(0, -1);
  }
}

function hasSurroundingQuote(text: string, quote: string): boolean {
  return text.length >= 2 && text[0] === quote && text.endsWith(quote) && text.indexOf(quote, 1) === text.length - 1;
}

/** sops drops the comment marker of the first line (and any run of markers and spaces after it). */
function stripCommentMarker(comment: string): string {
  if (comment.startsWith(';')) return comment.replace(/^[; ]+/, '');
  if (comment.startsWith('#')) return comment.replace(/^[# ]+/, '');
  return comment;
}

function toParsedFile(sections: RawSection[]): ParsedFile {
  const doc: MapNode = { kind: 'map', items: [] };
  let metadata: MapNode | undefined;
  for (const section of sections) {
    if (section.name === METADATA_SECTION) {
      // Newer sops writes newlines in metadata as a literal backslash-n.
      metadata ??= unflattenMetadata([...section.keys.values()].map((k): [string, string] => [k.name, k.value.replace(/\\n/g, '\n')]));
      continue;
    }
    const items: (Entry | Comment)[] = [];
    if (section.comment) items.push({ kind: 'comment', text: stripCommentMarker(section.comment) });
    for (const key of section.keys.values()) {
      items.push({ kind: 'entry', key: key.name, value: { kind: 'scalar', type: 'str', value: key.value } });
      // sops keeps a key's comment as the item after the key.
      if (key.comment) items.push({ kind: 'comment', text: stripCommentMarker(key.comment) });
    }
    doc.items.push({ kind: 'entry', key: section.name, value: { kind: 'map', items } });
  }
  const parsed: ParsedFile = { format: 'ini', documents: [doc] };
  if (metadata) parsed.metadata = metadata;
  return parsed;
}

/**
 * What a reader makes of `written` placed after `key = `, or undefined when
 * it would not read back as one plain value (an inline comment, a dangling
 * quote, lines left over). The writer uses it to pick a quoting that holds.
 */
export function valueAsRead(written: string): string | undefined {
  const reader = new LineReader(`${written}\n`);
  try {
    const read = readValue(reader.read() ?? '', reader);
    return read.comment === '' && reader.read() === undefined ? read.value : undefined;
  } catch (e) {
    if (e instanceof IniSyntaxError) return undefined;
    throw e;
  }
}

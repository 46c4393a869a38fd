import { EmitError, InputError } from '../errors.js';
import { valueToString } from '../sops/values.js';
import type { Comment, Entry, MapNode, Node, ParsedFile } from '../tree.js';
import { flattenMetadata, unflattenMetadata } from './flatten.js';
import type { Format } from './format.js';

/**
 * dotenv (spec §7.4). An encrypted file is read exactly as sops reads it
 * (`KEY=VALUE`, nothing trimmed, `\n` escapes), so its AAD paths match. A
 * plaintext file may also use the common dotenv grammar: `export `, quoted
 * values with escapes, multi-line double-quoted values. Comments and blank
 * lines keep their place; an untouched line is written back as it was.
 */

interface LineOrigin {
  blankBefore: number;
  raw: string;
  type?: string;
  value?: unknown;
}

interface DotenvLayout {
  trailingBlank: number;
  finalNewline: boolean;
}

const META_PREFIX = 'sops_';

export function parseDotenv(input: Uint8Array, file?: string): ParsedFile {
  const text = Buffer.from(input).toString('utf8');
  const lines = text.split('\n');
  const finalNewline = text.endsWith('\n');
  if (finalNewline) lines.pop();
  const encrypted = lines.some((l) => l.startsWith(META_PREFIX) && l.includes('='));
  const doc: MapNode = { kind: 'map', items: [] };
  const meta: [string, string][] = [];
  let blank = 0;
  const fail = (n: number, why: string): never => {
    throw new InputError(`invalid dotenv at line ${n}: ${why}`, file === undefined ? undefined : { file });
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '' || (!encrypted && line.trim() === '')) {
      blank++;
      continue;
    }
    if (line.startsWith('#') || (!encrypted && line.trimStart().startsWith('#'))) {
      const c: Comment = { kind: 'comment', text: line.trimStart().slice(1), origin: { blankBefore: blank, raw: line } satisfies LineOrigin };
      doc.items.push(c);
      blank = 0;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) fail(i + 1, 'expected KEY=VALUE');
    let key = line.slice(0, eq);
    let value: string;
    let raw = line;
    if (encrypted) {
      value = line.slice(eq + 1).replace(/\\n/g, '\n');
    } else {
      key = key.trim().replace(/^export\s+/, '').trim();
      const rest = line.slice(eq + 1);
      const trimmed = rest.trimStart();
      if (trimmed.startsWith('"')) {
        let body = trimmed.slice(1);
        let j = i;
        let end = findClosingQuote(body);
        while (end < 0 && j + 1 < lines.length) {
          j++;
          body += '\n' + lines[j];
          end = findClosingQuote(body);
        }
        if (end < 0) fail(i + 1, 'unterminated double-quoted value');
        value = unescapeDouble(body.slice(0, end));
        raw = lines.slice(i, j + 1).join('\n');
        i = j;
      } else if (trimmed.startsWith("'") && trimmed.trimEnd().length > 1 && trimmed.trimEnd().endsWith("'")) {
        value = trimmed.trimEnd().slice(1, -1);
      } else {
        value = rest.replace(/\\n/g, '\n');
      }
    }
    if (key === '') fail(i + 1, 'empty key');
    if (key.startsWith(META_PREFIX)) {
      meta.push([key.slice(META_PREFIX.length), value]);
      blank = 0;
      continue;
    }
    const entry: Entry = {
      kind: 'entry',
      key,
      value: { kind: 'scalar', type: 'str', value },
      origin: { blankBefore: blank, raw, type: 'str', value } satisfies LineOrigin,
    };
    doc.items.push(entry);
    blank = 0;
  }
  const layout: DotenvLayout = { trailingBlank: blank, finalNewline };
  const parsed: ParsedFile = { format: 'dotenv', documents: [doc], layout };
  if (meta.length) parsed.metadata = unflattenMetadata(meta);
  return parsed;
}

function findClosingQuote(body: string): number {
  for (let k = 0; k < body.length; k++) {
    if (body[k] === '\\') k++;
    else if (body[k] === '"') return k;
  }
  return -1;
}

function unescapeDouble(s: string): string {
  return s.replace(/\\([nrt"\\])/g, (_m, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c));
}

/** One value as a dotenv line writes it: sops's form, quoted only when a quote would otherwise be misread. */
export function formatDotenvValue(node: Node): string {
  if (node.kind !== 'scalar') throw new EmitError('dotenv cannot hold nested values');
  const text = valueToString(node);
  if (node.type === 'str' && (text.startsWith('"') || text.startsWith("'"))) {
    return '"' + text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r') + '"';
  }
  return text.replace(/\n/g, '\\n');
}

function emitDotenv(file: ParsedFile): Uint8Array {
  const doc = file.documents[0] ?? { kind: 'map', items: [] };
  if (file.documents.length > 1) throw new EmitError('dotenv holds one document; this file has several');
  const ownLayout = file.format === 'dotenv' ? (file.layout as DotenvLayout | undefined) : undefined;
  const out: string[] = [];
  for (const item of doc.items) {
    const origin = ownLayout ? (item.origin as LineOrigin | undefined) : undefined;
    for (let b = 0; b < (origin?.blankBefore ?? 0); b++) out.push('');
    if (item.kind === 'comment') {
      out.push(origin && origin.raw.trimStart().slice(1) === item.text ? origin.raw : `#${item.text}`);
      continue;
    }
    if (item.value.kind !== 'scalar') throw new EmitError(`dotenv cannot hold nested values (key ${item.key})`);
    if (/[=\n]/.test(item.key)) throw new EmitError(`dotenv keys cannot contain '=' or a newline (key ${JSON.stringify(item.key)})`);
    const unchanged = origin && origin.type === item.value.type && origin.value === item.value.value;
    out.push(unchanged ? origin.raw : `${item.key}=${formatDotenvValue(item.value)}`);
  }
  if (file.metadata) {
    for (const [k, v] of flattenMetadata(file.metadata)) out.push(`${META_PREFIX}${k}=${v.replace(/\n/g, '\\n')}`);
  } else if (ownLayout) {
    for (let b = 0; b < ownLayout.trailingBlank; b++) out.push('');
  }
  const finalNewline = ownLayout ? ownLayout.finalNewline || Boolean(file.metadata) : true;
  const text = out.join('\n') + (out.length && finalNewline ? '\n' : '');
  return Buffer.from(text, 'utf8');
}

export const dotenvFormat: Format = {
  name: 'dotenv',
  parse: (input, options) => parseDotenv(input, options?.file),
  emit: (file) => emitDotenv(file),
};

import { EmitError, InputError } from '../errors.js';
import { valueToString } from '../sops/values.js';
import type { Comment, Entry, MapNode, ParsedFile } from '../tree.js';
import { flattenMetadata, unflattenMetadata } from './flatten.js';
import type { Format } from './format.js';

/**
 * INI with go-ini's semantics (spec §7.5): sections of string keys, a DEFAULT
 * section first, and sops's quirk that a key's comment is stored after the key
 * (it is written above it again). The `[sops]` section holds the flattened
 * metadata with newlines as literal `\n`.
 */

const DEFAULT = 'DEFAULT';

export function parseIni(input: Uint8Array, file?: string): ParsedFile {
  const lines = Buffer.from(input).toString('utf8').replace(/^\uFEFF/, '').split(/\r?\n/);
  const doc: MapNode = { kind: 'map', items: [] };
  const defaultSection: MapNode = { kind: 'map', items: [] };
  doc.items.push({ kind: 'entry', key: DEFAULT, value: defaultSection });
  let section = defaultSection;
  let sectionName = DEFAULT;
  let pending: string[] = [];
  const meta: [string, string][] = [];
  const fail = (n: number, why: string): never => {
    throw new InputError(`invalid INI at line ${n}: ${why}`, file === undefined ? undefined : { file });
  };
  const takeComment = (): Comment | undefined => {
    if (!pending.length) return undefined;
    const text = pending.join('\n');
    pending = [];
    return { kind: 'comment', text };
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    if (line.startsWith(';') || line.startsWith('#')) {
      pending.push(pending.length ? line : line.replace(/^[;#]\s*/, ''));
      continue;
    }
    if (line.startsWith('[')) {
      const close = line.indexOf(']');
      if (close < 0) fail(i + 1, 'unclosed section header');
      sectionName = line.slice(1, close).trim();
      if (sectionName === DEFAULT) {
        section = defaultSection;
      } else {
        section = { kind: 'map', items: [] };
        if (sectionName !== 'sops') doc.items.push({ kind: 'entry', key: sectionName, value: section });
      }
      const c = takeComment();
      if (c && sectionName !== 'sops') section.items.push(c);
      continue;
    }
    const sep = line.search(/[=:]/);
    if (sep < 0) fail(i + 1, 'expected key = value');
    let key = line.slice(0, sep).trim();
    if (key.startsWith('`') && key.endsWith('`') && key.length > 1) key = key.slice(1, -1);
    let value = line.slice(sep + 1).trim();
    let inlineComment: string | undefined;
    if (value.startsWith('"""')) {
      let body = value.slice(3);
      while (!body.includes('"""')) {
        if (++i >= lines.length) fail(i, 'unterminated """ value');
        body += '\n' + lines[i];
      }
      value = body.slice(0, body.indexOf('"""'));
    } else if (value.startsWith('`')) {
      let body = value.slice(1);
      while (!body.includes('`')) {
        if (++i >= lines.length) fail(i, 'unterminated ` value');
        body += '\n' + lines[i];
      }
      value = body.slice(0, body.indexOf('`'));
    } else if (/^(["']).*\1$/.test(value) && value.length >= 2) {
      value = value.slice(1, -1);
    } else {
      while (value.endsWith('\\') && i + 1 < lines.length) value = value.slice(0, -1) + lines[++i]!.trim();
      const hash = value.search(/\s[#;]|^[#;]/);
      if (hash >= 0) {
        inlineComment = value.slice(hash).trim().replace(/^[#;]\s*/, '');
        value = value.slice(0, hash).trim();
      }
    }
    if (sectionName === 'sops') {
      meta.push([key, value.replace(/\\n/g, '\n')]);
      pending = [];
      continue;
    }
    const existing = section.items.findIndex((it) => it.kind === 'entry' && it.key === key);
    const entry: Entry = { kind: 'entry', key, value: { kind: 'scalar', type: 'str', value } };
    if (existing >= 0) section.items.splice(existing, 1, entry);
    else section.items.push(entry);
    if (inlineComment !== undefined) pending.unshift(inlineComment);
    const c = takeComment();
    if (c) section.items.splice(section.items.indexOf(entry) + 1, 0, c);
  }
  const parsed: ParsedFile = { format: 'ini', documents: [doc] };
  if (meta.length) parsed.metadata = unflattenMetadata(meta);
  return parsed;
}

function quoteValue(v: string): string {
  if (v.includes('\n') || v.includes('`')) return `"""${v}"""`;
  if (v.includes('#') || v.includes(';')) return `\`${v}\``;
  if (v !== v.trim()) return `"${v}"`;
  return v;
}

function quoteKey(k: string): string {
  return /["=:]/.test(k) ? `\`${k}\`` : k;
}

function emitSection(name: string, section: MapNode, out: string[][]): void {
  const lines: string[] = [];
  const entries = section.items.filter((i): i is Entry => i.kind === 'entry');
  const width = Math.max(0, ...entries.map((e) => quoteKey(e.key).length));
  let comments: string[] = [];
  const items = section.items;
  // A section comment is the first item; a key's comment follows the key.
  let start = 0;
  const header: string[] = [];
  if (items[0]?.kind === 'comment') {
    header.push(...items[0].text.split('\n').map((l, i) => (i === 0 ? `; ${l}` : l)));
    start = 1;
  }
  for (let i = start; i < items.length; i++) {
    const item = items[i]!;
    if (item.kind !== 'entry') continue;
    const next = items[i + 1];
    comments = next?.kind === 'comment' ? next.text.split('\n').map((l, j) => (j === 0 ? `; ${l}` : l)) : [];
    if (item.value.kind !== 'scalar') throw new EmitError(`INI values must be scalars (key ${item.key} in section ${name})`);
    lines.push(...comments, `${quoteKey(item.key).padEnd(width)} = ${quoteValue(valueToString(item.value))}`);
  }
  if (name === DEFAULT && lines.length === 0 && header.length === 0) return;
  out.push([...header, ...(name === DEFAULT ? [] : [`[${name}]`]), ...lines]);
}

function emitIni(file: ParsedFile): Uint8Array {
  if (file.documents.length > 1) throw new EmitError('INI holds one document; this file has several');
  const doc = file.documents[0] ?? { kind: 'map', items: [] };
  const blocks: string[][] = [];
  for (const item of doc.items) {
    if (item.kind !== 'entry') continue;
    if (item.value.kind !== 'map') {
      if (item.value.kind === 'scalar') {
        emitSection(DEFAULT, { kind: 'map', items: [{ kind: 'entry', key: item.key, value: item.value }] }, blocks);
        continue;
      }
      throw new EmitError(`INI cannot hold a list (key ${item.key})`);
    }
    emitSection(item.key, item.value, blocks);
  }
  if (file.metadata) {
    const meta = flattenMetadata(file.metadata);
    const width = Math.max(...meta.map(([k]) => k.length));
    blocks.push(['[sops]', ...meta.map(([k, v]) => `${k.padEnd(width)} = ${v.replace(/\n/g, '\\n')}`)]);
  }
  return Buffer.from(blocks.map((b) => b.join('\n') + '\n').join('\n'), 'utf8');
}

export const iniFormat: Format = {
  name: 'ini',
  parse: (input, options) => parseIni(input, options?.file),
  emit: (file) => emitIni(file),
};

import { EmitError } from '../../errors.js';
import { valueToString } from '../../values.js';
import type { MapNode, ParsedFile } from '../../tree.js';
import { flattenMetadata } from '../flatten.js';
import { DEFAULT_SECTION, METADATA_SECTION, valueAsRead } from './parse.js';

/**
 * INI writing as sops does it through go-ini's pretty printer (docs/format.md#ini):
 * `=` aligned within a section, comments as `; text` above what they belong
 * to, a blank line between sections, the flattened metadata last.
 */

interface OutKey {
  name: string;
  value: string;
  comment?: string;
}

interface OutSection {
  name: string;
  comment?: string;
  keys: OutKey[];
}

export function emitIni(file: ParsedFile): Uint8Array {
  if (file.documents.length > 1) throw new EmitError('INI holds one document; this file has several');
  const doc: MapNode = file.documents[0] ?? { kind: 'map', items: [] };
  const sections: OutSection[] = [];
  for (const item of doc.items) {
    // A comment outside any section has no place in INI; sops drops it too.
    if (item.kind !== 'entry') continue;
    if (item.value.kind !== 'map') throw new EmitError(`INI needs sections: top-level key ${JSON.stringify(item.key)} is not a section`);
    sections.push(toOutSection(item.key, item.value));
  }
  if (file.metadata) {
    const keys = flattenMetadata(file.metadata).map(([name, value]): OutKey => ({ name, value: value.replace(/\n/g, '\\n') }));
    sections.push({ name: METADATA_SECTION, keys });
  }
  let out = '';
  sections.forEach((section, index) => {
    if (section.comment !== undefined) out += commentLines(section.comment, false);
    if (index > 0 || section.name !== DEFAULT_SECTION) out += `[${checkSectionName(section.name)}]\n`;
    else if (section.keys.length === 0) return;
    out += keyLines(section);
    out += '\n';
  });
  // Sections are separated by a blank line; the last one is not followed by one.
  if (out.endsWith('\n\n')) out = out.slice(0, -1);
  return Buffer.from(out, 'utf8');
}

function toOutSection(name: string, node: MapNode): OutSection {
  const section: OutSection = { name, keys: [] };
  const byName = new Map<string, OutKey>();
  let last: OutKey | undefined;
  for (const item of node.items) {
    if (item.kind === 'comment') {
      // The first item's comment is the section's; later ones belong to the key before them.
      if (last) last.comment = last.comment === undefined ? item.text : `${last.comment}\n${item.text}`;
      else section.comment = section.comment === undefined ? item.text : `${section.comment}\n${item.text}`;
      continue;
    }
    if (item.value.kind !== 'scalar') {
      throw new EmitError(`INI cannot hold nested values (key ${JSON.stringify(item.key)} in section ${JSON.stringify(name)})`);
    }
    const value = valueToString(item.value);
    const existing = byName.get(item.key);
    if (existing) {
      // One section holds one value per key, in the place it first appeared.
      existing.value = value;
      existing.comment = undefined;
      last = existing;
      continue;
    }
    last = { name: item.key, value };
    byName.set(item.key, last);
    section.keys.push(last);
  }
  return section;
}

function checkSectionName(name: string): string {
  if (name === '' || /[\n\r]/.test(name)) throw new EmitError(`INI cannot hold section name ${JSON.stringify(name)}`);
  return name;
}

function commentLines(comment: string, trimPlain: boolean): string {
  return comment
    .split('\n')
    .map((line) => {
      if (line === '') return ';\n';
      if (line[0] === '#' || line[0] === ';') return `${line[0]} ${line.slice(1).trim()}\n`;
      return `; ${trimPlain ? line.trim() : line}\n`;
    })
    .join('');
}

function keyLines(section: OutSection): string {
  const names = section.keys.map((key) => quoteKey(key.name, section.name));
  const width = Math.max(0, ...names.map((n) => Buffer.byteLength(n, 'utf8')));
  return section.keys
    .map((key, i) => {
      const name = names[i]!;
      const comment = key.comment === undefined ? '' : commentLines(key.comment, true);
      return `${comment}${name}${' '.repeat(width - Buffer.byteLength(name, 'utf8'))} = ${quoteValue(key.value, key.name)}\n`;
    })
    .join('');
}

function quoteKey(name: string, section: string): string {
  const problem = (why: string): EmitError => new EmitError(`INI cannot hold key ${JSON.stringify(name)} in section ${JSON.stringify(section)}: ${why}`);
  if (name === '') throw problem('empty key');
  if (/[\n\r]/.test(name)) throw problem('it holds a line break');
  if (name.trim() !== name) throw problem('it starts or ends with whitespace');
  const needsBackticks = /["=:]/.test(name) || /^[#;[]/.test(name);
  if (name.includes('`')) {
    if (needsBackticks || name.includes('"""')) throw problem('it mixes quote characters');
    return `"""${name}"""`;
  }
  return needsBackticks ? `\`${name}\`` : name;
}

/**
 * go-ini's value quoting. Where go-ini would write a value that reads back
 * as something else (surrounding quotes, a trailing backslash, a quote
 * character inside the quoting it chose), another quoting that holds is used.
 */
function quoteValue(value: string, key: string): string {
  const candidates = [goIniQuoting(value), `"""${value}"""`, `\`${value}\``];
  const written = candidates.find((c) => valueAsRead(c) === value);
  if (written === undefined) throw new EmitError(`INI cannot hold the value of key ${JSON.stringify(key)}: no quoting reads it back unchanged`);
  return written;
}

function goIniQuoting(value: string): string {
  if (/[\n`]/.test(value)) return `"""${value}"""`;
  if (/[#;]/.test(value)) return `\`${value}\``;
  if (value.trim() !== value) return `"${value}"`;
  return value;
}

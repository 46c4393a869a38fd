import { EmitError, MalformedFileError } from '../errors.js';
import type { Format } from './format.js';
import type { MapNode, ParsedFile } from '../tree.js';
import { buildLayout, emitWithLayout, type JsonLayout } from './json/layout.js';
import { decodeUtf8, readJson, type ContainerOrigin, type JsonSource } from './json/read.js';
import { indentUnit, renderJson } from './json/write.js';

/**
 * JSON as sops reads and writes it (docs/format.md#json). A file is written back in its
 * own layout when only values changed; otherwise (or when converting from
 * another format) in Go's layout: tab indent by default, HTML-safe escaping,
 * one trailing newline, `sops` last.
 */

export { formatJsonValue, goJsonString, indentUnit } from './json/write.js';

class JsonFileLayout {
  constructor(readonly layout: JsonLayout) {}
}

export interface JsonDocument {
  document: MapNode;
  metadata?: MapNode;
  source: JsonSource;
  /** False when the `sops` member could not be placed (duplicates). */
  keepsLayout: boolean;
}

/**
 * Reads a JSON object and moves its top-level `sops` member (an object) to
 * metadata. A `sops` member that is not an object is malformed metadata.
 */
export function parseJsonDocument(input: Uint8Array, file?: string): JsonDocument {
  const source = readJson(decodeUtf8(input), file);
  const root = source.root;
  const sopsEntries = root.items.filter((i) => i.kind === 'entry' && i.key === 'sops');
  if (sopsEntries.length === 0) return { document: root, source, keepsLayout: true };
  const last = sopsEntries[sopsEntries.length - 1]!;
  if (last.kind !== 'entry' || last.value.kind !== 'map') {
    throw new MalformedFileError('the top-level `sops` key must hold an object', file === undefined ? undefined : { file });
  }
  root.items = root.items.filter((i) => !sopsEntries.includes(i));
  // The document as read is the one without `sops`.
  (root.origin as ContainerOrigin).count = root.items.length;
  return { document: root, metadata: last.value, source, keepsLayout: sopsEntries.length === 1 };
}

/** The document with the metadata as its last member, for canonical output. */
export function withMetadata(file: ParsedFile): MapNode {
  const doc = file.documents[0] ?? { kind: 'map', items: [] };
  if (!file.metadata) return doc;
  return { kind: 'map', items: [...doc.items.filter((i) => i.kind !== 'entry' || i.key !== 'sops'), { kind: 'entry', key: 'sops', value: file.metadata }] };
}

function emitJsonText(file: ParsedFile, indent: number | undefined): string {
  if (file.documents.length > 1) throw new EmitError('JSON holds one document; this file has several');
  const unit = indentUnit(indent);
  if (file.format === 'json' && file.layout instanceof JsonFileLayout) {
    const text = emitWithLayout(file, file.layout.layout);
    if (text !== undefined) return text;
  }
  return renderJson(withMetadata(file), unit) + '\n';
}

export const jsonFormat: Format = {
  name: 'json',
  parse(input, options) {
    const { document, metadata, source, keepsLayout } = parseJsonDocument(input, options?.file);
    const parsed: ParsedFile = { format: 'json', documents: [document] };
    if (metadata) parsed.metadata = metadata;
    if (keepsLayout) parsed.layout = new JsonFileLayout(buildLayout(source));
    return parsed;
  },
  emit(file, options) {
    return Buffer.from(emitJsonText(file, options?.indent), 'utf8');
  },
};

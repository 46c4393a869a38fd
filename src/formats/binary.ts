import { EmitError } from '../errors.js';
import type { Format } from './format.js';
import type { Entry, MapNode, ParsedFile } from '../tree.js';
import { parseJsonDocument } from './json.js';
import { indentUnit, renderJson } from './json/write.js';

/**
 * Any other file (docs/format.md#binary): the whole content is one value, `data`, kept as
 * bytes so that non-UTF-8 content survives. Encrypted, it is a JSON envelope
 * `{"data": "ENC[...]", "sops": {...}}`.
 */

const DATA_KEY_NEEDED = 'binary output needs a single `data` key';

function plaintextFile(input: Uint8Array): ParsedFile {
  const data: Entry = { kind: 'entry', key: 'data', value: { kind: 'scalar', type: 'str', value: new Uint8Array(input) } };
  return { format: 'binary', documents: [{ kind: 'map', items: [data] }] };
}

function dataEntry(file: ParsedFile): Entry {
  const doc = file.documents[0];
  const data = doc?.items.find((i): i is Entry => i.kind === 'entry' && i.key === 'data');
  if (!data) throw new EmitError(DATA_KEY_NEEDED);
  return data;
}

export const binaryFormat: Format = {
  name: 'binary',
  parse(input, options) {
    if (!looksLikeEnvelope(input)) return plaintextFile(input);
    try {
      const { document, metadata } = parseJsonDocument(input, options?.file);
      if (metadata) return { format: 'binary', documents: [document], metadata };
    } catch {
      // Not an envelope after all: plaintext that happens to look like one.
    }
    return plaintextFile(input);
  },
  emit(file, options) {
    const data = dataEntry(file);
    if (file.metadata) {
      const envelope: MapNode = { kind: 'map', items: [{ kind: 'entry', key: 'data', value: data.value }, { kind: 'entry', key: 'sops', value: file.metadata }] };
      return Buffer.from(renderJson(envelope, indentUnit(options?.indent)) + '\n', 'utf8');
    }
    const value = data.value;
    if (value.kind !== 'scalar') throw new EmitError('binary output needs `data` to be a single value, not a map or list');
    const v = value.value;
    if (v instanceof Uint8Array) return v;
    return Buffer.from(v === null ? '' : typeof v === 'bigint' ? v.toString() : String(v), 'utf8');
  },
};

/** A cheap check before trying a JSON parse: an object that mentions `"sops"`. */
function looksLikeEnvelope(input: Uint8Array): boolean {
  let i = 0;
  while (i < input.length && (input[i] === 0x20 || input[i] === 0x0a || input[i] === 0x0d || input[i] === 0x09)) i++;
  if (input[i] !== 0x7b) return false;
  return Buffer.from(input.buffer, input.byteOffset, input.byteLength).includes('"sops"');
}

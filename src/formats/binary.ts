import { EmitError } from '../errors.js';
import type { Format } from './format.js';
import { formatJsonValue, parseJsonDocument, splitMetadata, withMetadata } from './json.js';

/**
 * Any other file (spec §7.3): the whole content is one value, `data`, kept as
 * bytes. Encrypted, it is a JSON envelope `{"data": "ENC[...]", "sops": {...}}`.
 */
export const binaryFormat: Format = {
  name: 'binary',
  parse(input, options) {
    if (looksLikeEnvelope(input)) {
      try {
        const { document, metadata } = splitMetadata(parseJsonDocument(input, options?.file));
        if (metadata) return { format: 'binary', documents: [document], metadata };
      } catch {
        // not an envelope after all: plaintext that happens to start like one
      }
    }
    return {
      format: 'binary',
      documents: [{ kind: 'map', items: [{ kind: 'entry', key: 'data', value: { kind: 'scalar', type: 'str', value: new Uint8Array(input) } }] }],
    };
  },
  emit(file, options) {
    if (file.metadata) return Buffer.from(formatJsonValue(withMetadata(file), options?.indent) + '\n', 'utf8');
    const doc = file.documents[0];
    const data = doc?.items.find((i) => i.kind === 'entry' && i.key === 'data');
    if (!data || data.kind !== 'entry' || data.value.kind !== 'scalar') throw new EmitError('binary output needs a single `data` key');
    const v = data.value.value;
    return v instanceof Uint8Array ? v : Buffer.from(v === null ? '' : String(v), 'utf8');
  },
};

function looksLikeEnvelope(input: Uint8Array): boolean {
  let i = 0;
  while (i < input.length && (input[i] === 0x20 || input[i] === 0x0a || input[i] === 0x0d || input[i] === 0x09)) i++;
  if (input[i] !== 0x7b) return false;
  return Buffer.from(input.subarray(0, Math.min(input.length, 1 << 26))).includes('"sops"');
}

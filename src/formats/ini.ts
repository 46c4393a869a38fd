import type { Format } from './format.js';
import { emitIni } from './ini/emit.js';
import { parseIni } from './ini/parse.js';

/**
 * INI with go-ini's semantics (docs/format.md#ini): sections of string keys, a DEFAULT
 * section first, and sops's habit of storing a key's comment after the key
 * (it is written above it again). The `[sops]` section holds the flattened
 * metadata. The layout is always the canonical one sops writes.
 */
export const iniFormat: Format = {
  name: 'ini',
  parse: (input, options) => parseIni(input, options?.file),
  emit: (file) => emitIni(file),
};

export { emitIni, parseIni };

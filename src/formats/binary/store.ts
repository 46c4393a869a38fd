import type { ParsedFile } from '../../tree.js';
import { jsonStore } from '../json/store.js';
import type { Store } from '../store.js';

export const binaryStore: Store = {
  name: 'binary',
  aliases: [],
  // Every name no other store claims is binary; `.bin` is named so that `edit x.bin` knows it means a file.
  claimsName: (base) => base.endsWith('.bin'),
  fallback: true,
  load: async () => (await import('../binary.js')).binaryFormat,
  // The value of a binary file is its `data`, a string; anything else is written as YAML writes it.
  writeValue: async (node, indent) => Buffer.from((await import('../yaml.js')).formatYamlValue(node, indent)),
  holdsNestedTrees: false,
  singleValued: true,
  config: { key: 'json_binary', indent: { tab: true } },
  newFileTemplate: 'Replace this text with your secret.\n',
  // Encrypted, a binary file is a JSON envelope: the JSON store's detection finds it, and the envelope is claimed back.
  ownerOf: (parsed) => (parsed.metadata && !isEnvelope(parsed) ? jsonStore : undefined),
  claimsRead: (parsed, readBy) => readBy === jsonStore && isEnvelope(parsed),
};

/** sops's binary store: a JSON object holding `data` only (besides `sops`). */
function isEnvelope(file: ParsedFile): boolean {
  const items = file.documents[0]?.items ?? [];
  return items.length === 1 && items[0]!.kind === 'entry' && items[0]!.key === 'data';
}

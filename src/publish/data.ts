import type { MapNode, Node } from '../tree.js';

/**
 * A decrypted tree as the JSON text of one object, as sops hands it to Vault:
 * every document's entries in one map (later documents win), comments
 * dropped, integers exact, binary content as text.
 */
export function treeAsJson(documents: MapNode[]): string {
  const merged = new Map<string, Node>();
  for (const doc of documents) for (const item of doc.items) if (item.kind === 'entry') merged.set(item.key, item.value);
  return `{${[...merged].map(([k, v]) => `${JSON.stringify(k)}:${nodeJson(v)}`).join(',')}}`;
}

function nodeJson(node: Node): string {
  switch (node.kind) {
    case 'map':
      return `{${node.items.flatMap((i) => (i.kind === 'entry' ? [`${JSON.stringify(i.key)}:${nodeJson(i.value)}`] : [])).join(',')}}`;
    case 'list':
      return `[${node.items.flatMap((i) => (i.kind === 'comment' ? [] : [nodeJson(i)])).join(',')}]`;
    default: {
      const v = node.value;
      if (typeof v === 'bigint') return v.toString();
      if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8'));
      if (typeof v === 'number' && !Number.isFinite(v)) return JSON.stringify(String(v));
      return JSON.stringify(v);
    }
  }
}

/**
 * Which decrypted values the sops format leaves unauthenticated. The MAC is
 * a hash over the values' bytes, so an empty value (or null) adds nothing to
 * it: anyone can add or blank one without the keys. In a file with
 * `mac_only_encrypted: true`, values left in plaintext are not hashed at all.
 * Encrypted values are bound to their key path by AES-GCM and are safe.
 */
import { readMetadata, type Metadata } from '../sops/metadata.js';
import { DEFAULT_RULE, EncryptionPolicy } from '../sops/rules.js';
import { describePath, walk } from '../sops/tree-crypto.js';
import { plaintextBytes } from '../values.js';
import type { MapNode, Node, ParsedFile, Scalar } from '../tree.js';
import { storeNamed } from '../formats/registry.js';
import { ALLOW_EMPTY_OVERRIDE_HINT, ALLOW_UNAUTHENTICATED_HINT, EnvironmentError } from './env.js';

/** `empty`: empty or null; `plaintext`: a non-empty value the MAC skips (mac_only_encrypted). */
export type Unauthenticated = 'empty' | 'plaintext';

/** How a decrypted leaf stands with the MAC: undefined when it is covered. */
export type Provenance = (node: Scalar) => Unauthenticated | undefined;

/** Never flags anything: for callers that opted out of the checks. */
const TRUSTED: Provenance = () => undefined;

/**
 * Captures the metadata while a file is opened (`inspect` of the open
 * options); `provenance(parsed)` afterwards classifies its decrypted leaves
 * with the same encryption rule the decryption used.
 */
export class ProvenanceRecorder {
  private metadata: Metadata | undefined;

  readonly inspect = (parsed: ParsedFile): void => {
    if (parsed.metadata) this.metadata = readMetadata(parsed.metadata);
  };

  provenance(parsed: ParsedFile): Provenance {
    const metadata = this.metadata;
    // A single-valued file is one encrypted blob: nothing in it is unauthenticated.
    if (!metadata || storeNamed(parsed.format).singleValued) return TRUSTED;
    const marks = new WeakMap<Scalar, Unauthenticated>();
    walk(parsed.documents, new EncryptionPolicy(metadata.rule ?? DEFAULT_RULE), {
      scalar(node, _path, encrypt) {
        if (isEmpty(node)) marks.set(node, 'empty');
        else if (!encrypt && metadata.macOnlyEncrypted) marks.set(node, 'plaintext');
      },
      comment: (node) => node.text,
    });
    return (node) => marks.get(node);
  }
}

function isEmpty(node: Scalar): boolean {
  if (node.type === 'null') return true;
  const bytes = plaintextBytes(node);
  const empty = bytes.length === 0;
  bytes.fill(0);
  return empty;
}

export interface WrittenValueChecks {
  allowUnauthenticated?: boolean;
  allowEmptyOverride?: boolean;
  /** Named in error messages. */
  file?: string;
}

/**
 * exec-file's rules for the text it hands over, the same as exec-env's for
 * variables: no plaintext value of a mac_only_encrypted file, and no empty
 * value under a key its map already holds (a reader taking the last, or the
 * first, of the two would see the unauthenticated one).
 */
export function checkWrittenValues(documents: readonly MapNode[], provenance: Provenance, options: WrittenValueChecks = {}): void {
  const visit = (node: Node, path: string[]): void => {
    if (node.kind === 'scalar') {
      if (provenance(node) === 'plaintext' && !options.allowUnauthenticated) {
        throw new EnvironmentError(`the value at ${describePath(path)} is plaintext in a mac_only_encrypted file, so the MAC does not cover it and anyone could have set it (${ALLOW_UNAUTHENTICATED_HINT})`, options.file);
      }
      return;
    }
    if (node.kind === 'map') {
      const seen = new Map<string, number>();
      for (const item of node.items) if (item.kind === 'entry') seen.set(item.key, (seen.get(item.key) ?? 0) + 1);
      for (const item of node.items) {
        if (item.kind !== 'entry') continue;
        const value = item.value;
        if (value.kind === 'scalar' && provenance(value) === 'empty' && seen.get(item.key)! > 1 && !options.allowEmptyOverride) {
          throw new EnvironmentError(`the key at ${describePath([...path, item.key])} appears twice, once with an empty value, which the MAC does not cover (${ALLOW_EMPTY_OVERRIDE_HINT})`, options.file);
        }
        visit(value, [...path, item.key]);
      }
      return;
    }
    let index = 0;
    for (const item of node.items) if (item.kind !== 'comment') visit(item, [...path, String(index++)]);
  };
  for (const doc of documents) visit(doc, []);
}

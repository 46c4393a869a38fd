import type { Node, ParsedFile } from '../tree.js';
import type { Format } from './format.js';

/**
 * Everything the rest of tsops knows about one store (file format), in the
 * store's own module: the CLI, the editor, `set`, `exec`, content detection
 * and the config read these fields and never test a store's name. The
 * descriptor is light; the parser and emitter load on first use.
 */
export interface Store {
  /** As sops spells it for `--input-type`/`--output-type`; the `format` of the files it reads. */
  readonly name: string;
  /** Other `--input-type`/`--output-type` spellings sops accepts. */
  readonly aliases: readonly string[];
  /** Whether a file of this base name (lower-cased) is this store's, by its extension. */
  claimsName(base: string): boolean;
  /** The store of standard input and of names no store claims (sops's binary store). */
  readonly fallback?: boolean;
  /** Parser and emitter. */
  load(): Promise<Format>;
  /** `decrypt --extract` of a value that is neither a string (written raw) nor a map (written as a file). */
  writeValue(node: Node, indent: number | undefined): Promise<Uint8Array>;
  /**
   * The whole file is one value, encrypted whole: encryption rules and
   * mac_only_encrypted do not apply, the value keeps its bytes, and nothing
   * in it can be an unauthenticated plaintext.
   */
  readonly singleValued: boolean;
  /** Holds any tree of maps and lists, as a structured document (a Kubernetes manifest) needs; flat and single-valued stores do not. */
  readonly holdsNestedTrees: boolean;
  /** Its entry in the `stores:` section of `.sops.yaml`, and the indent it takes there (`tab`: -1 means a tab). */
  readonly config: { readonly key: string; readonly indent?: { readonly tab: boolean } };
  /** What `edit` opens a new file with: a short example in the store's own syntax. */
  readonly newFileTemplate: string;
  /** How the store is recognised from content when a file does not read as its name implies (src/formats/detect.ts). */
  readonly detection?: StoreDetection;
  /** Content this store read with sops metadata that is another store's (its content shows it), or undefined. */
  ownerOf?(parsed: ParsedFile): Store | undefined;
  /** Whether content that `readBy` read with sops metadata is this store's instead. */
  claimsRead?(parsed: ParsedFile, readBy: Store): boolean;
}

export interface StoreDetection {
  /** Stores are tried in increasing rank: the most specific first, a grammar that others' files also satisfy last. */
  readonly rank: number;
  /** A cheap test on the whole text (latin1): might this store's metadata be in it? */
  mayHold(text: string): boolean;
}

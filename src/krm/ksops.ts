/**
 * ksops manifests (`apiVersion: viaduct.ai/v1`, `kind: ksops`) turned into
 * the resources they describe, as ksops does: each of `files` is an encrypted
 * manifest, decrypted whole; each of `secretFrom` becomes a Secret whose
 * `stringData` holds the decrypted text files and dotenv entries and whose
 * `data` holds the decrypted binary files in base64. kustomize itself acts on
 * the annotations carried over from `metadata` (`needs-hash`, `behavior`).
 */
import { TsopsError } from '../errors.js';
import { emitAs, formatForPath } from '../formats/format.js';
import { storeForPath } from '../formats/registry.js';
import type { KeyOptions } from '../keys/masterkey.js';
import { decryptBytes } from '../sops/open.js';
import type { Node, ParsedFile } from '../tree.js';
import { readListedFile } from './paths.js';

export interface SecretFrom {
  metadata: Record<string, unknown>;
  type?: string;
  files: string[];
  binaryFiles: string[];
  envs: string[];
}

export interface KsopsManifest {
  files: string[];
  secretFrom: SecretFrom[];
}

/** Decrypted output: a decrypted manifest file as its bytes, or a generated Secret. */
export type Generated = { kind: 'manifest'; file: string; bytes: Uint8Array } | { kind: 'secret'; object: Record<string, unknown> };

export interface GenerateContext {
  cwd: string;
  root: string;
  keys: KeyOptions;
}

const METADATA_FIELDS = ['name', 'namespace', 'labels', 'annotations'];
const TOOL_ANNOTATION_PREFIXES = ['config.kubernetes.io/', 'internal.config.kubernetes.io/', 'config.k8s.io/'];

export function isKsopsObject(value: unknown): value is Record<string, unknown> {
  if (!isRecord(value)) return false;
  return value['kind'] === 'ksops' && typeof value['apiVersion'] === 'string' && value['apiVersion'].startsWith('viaduct.ai/');
}

/** Reads a manifest object as ksops does: `files` and/or `secretFrom` must be there. `name` labels errors. */
export function readManifest(value: unknown, name: string): KsopsManifest {
  const fail = (why: string): never => {
    throw new TsopsError(why, 'failed', { file: name });
  };
  if (!isRecord(value)) return fail('a ksops manifest must be a mapping');
  if (value['files'] === undefined && value['secretFrom'] === undefined) fail("missing the 'files' or 'secretFrom' key of a ksops manifest");
  const strings = (v: unknown, field: string): string[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) return fail(`'${field}' must be a list of paths`);
    return v as string[];
  };
  const secretFrom = value['secretFrom'] ?? [];
  if (!Array.isArray(secretFrom)) return fail("'secretFrom' must be a list");
  return {
    files: strings(value['files'], 'files'),
    secretFrom: secretFrom.map((entry, i) => {
      if (!isRecord(entry)) return fail(`secretFrom[${i}] must be a mapping`);
      const metadata = entry['metadata'] ?? {};
      if (!isRecord(metadata)) return fail(`secretFrom[${i}].metadata must be a mapping`);
      const type = entry['type'];
      if (type !== undefined && type !== null && typeof type !== 'string') return fail(`secretFrom[${i}].type must be a string`);
      // ksops keeps these four fields of the metadata and drops the rest.
      const kept = Object.fromEntries(METADATA_FIELDS.filter((f) => metadata[f] !== undefined && metadata[f] !== null).map((f) => [f, metadata[f]]));
      // Annotations under these prefixes steer the KRM tools themselves (kpt writes output to `config.kubernetes.io/path`): a planted manifest must not set them on a Secret.
      if (isRecord(kept['annotations'])) kept['annotations'] = Object.fromEntries(Object.entries(kept['annotations']).filter(([key]) => !TOOL_ANNOTATION_PREFIXES.some((prefix) => key.startsWith(prefix))));
      return {
        metadata: kept,
        ...(typeof type === 'string' && type !== '' ? { type } : {}),
        files: strings(entry['files'], `secretFrom[${i}].files`),
        binaryFiles: strings(entry['binaryFiles'], `secretFrom[${i}].binaryFiles`),
        envs: strings(entry['envs'], `secretFrom[${i}].envs`),
      };
    }),
  };
}

/** Every resource a manifest describes, decrypted, in ksops's order: `files`, then one Secret per `secretFrom`. */
export async function generate(manifest: KsopsManifest, ctx: GenerateContext): Promise<Generated[]> {
  const out: Generated[] = [];
  for (const file of manifest.files) {
    if (!storeForPath(file).holdsNestedTrees) throw new TsopsError('a file under `files` must be an encrypted YAML or JSON manifest (use secretFrom for other files)', 'failed', { file });
    const parsed = await decryptListed(file, ctx);
    // Anything else (a values file listed by a planted manifest) would fail in kustomize, whose error quotes the object: the secrets would reach the build log.
    if (!parsed.documents.every(isResource)) throw new TsopsError('a file under `files` must decrypt to Kubernetes resources (apiVersion and kind in each document)', 'failed', { file });
    out.push({ kind: 'manifest', file, bytes: await emitAs(parsed, parsed.format, undefined, file) });
  }
  for (const from of manifest.secretFrom) out.push({ kind: 'secret', object: await secretObject(from, ctx) });
  return out;
}

async function secretObject(from: SecretFrom, ctx: GenerateContext): Promise<Record<string, unknown>> {
  const stringData: Record<string, string> = {};
  const data: Record<string, string> = {};
  for (const spec of from.files) {
    const { key, path } = keyAndPath(spec);
    const bytes = await decryptedBytes(path, ctx);
    try {
      stringData[key] = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new TsopsError('is not UTF-8 text: list it under binaryFiles', 'failed', { file: path });
    } finally {
      bytes.fill(0);
    }
  }
  for (const spec of from.binaryFiles) {
    const { key, path } = keyAndPath(spec);
    const bytes = await decryptedBytes(path, ctx);
    data[key] = Buffer.from(bytes).toString('base64');
    bytes.fill(0);
  }
  for (const path of from.envs) {
    const parsed = await decryptListed(path, ctx);
    for (const [key, value] of flatEntries(parsed, path)) stringData[key] = value;
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: from.metadata,
    ...(from.type === undefined ? {} : { type: from.type }),
    ...(Object.keys(stringData).length ? { stringData } : {}),
    ...(Object.keys(data).length ? { data } : {}),
  };
}

/** `path` (the key is its base name) or `key=path`, as ksops and kustomize's secretGenerator spell them. */
export function keyAndPath(spec: string): { key: string; path: string } {
  const parts = spec.split('=');
  if (parts.length === 1) return { key: spec.split(/[\\/]/).pop() ?? spec, path: spec };
  if (parts.length > 2 || parts[0] === '' || parts[1] === '') throw new TsopsError('expected PATH or KEY=PATH', 'failed', { file: spec });
  return { key: parts[0]!, path: parts[1]! };
}

async function decryptListed(path: string, ctx: GenerateContext): Promise<ParsedFile> {
  const raw = await readListedFile(path, ctx.cwd, ctx.root);
  try {
    return await decryptBytes(raw, formatForPath(path), path, { keys: ctx.keys });
  } finally {
    raw.fill(0);
  }
}

/** The decrypted file as `tsops decrypt` prints it: a binary file's own bytes, any other in its own format. */
async function decryptedBytes(path: string, ctx: GenerateContext): Promise<Uint8Array> {
  const parsed = await decryptListed(path, ctx);
  return emitAs(parsed, parsed.format, undefined, path);
}

/** A dotenv file's entries (or any flat mapping of scalars), values as text. */
function flatEntries(parsed: ParsedFile, path: string): [string, string][] {
  const doc = parsed.documents[0];
  if (!doc || doc.kind !== 'map') throw new TsopsError('an envs file must hold KEY=VALUE entries', 'failed', { file: path });
  const out: [string, string][] = [];
  for (const item of doc.items) {
    if (item.kind !== 'entry') continue;
    out.push([item.key, scalarText(item.value, item.key, path)]);
  }
  return out;
}

function scalarText(node: Node, key: string, path: string): string {
  if (node.kind !== 'scalar') throw new TsopsError(`an envs file must be flat: ${key} is not a single value`, 'failed', { file: path });
  const v = node.value;
  if (v === null) return '';
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return String(v);
}

function isResource(document: Node): boolean {
  if (document.kind !== 'map') return false;
  const text = (name: string): boolean => document.items.some((item) => item.kind === 'entry' && item.key === name && item.value.kind === 'scalar' && typeof item.value.value === 'string' && item.value.value !== '');
  return text('apiVersion') && text('kind');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

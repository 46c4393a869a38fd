/**
 * `tsops krm`: a kustomize plugin that reads ksops manifests, in both of
 * ksops's forms. With a manifest path it is the legacy exec plugin (prints the
 * resources); with a ResourceList on standard input it is the KRM function
 * (prints a ResourceList). Decrypted data goes to standard output only.
 */
import { homedir } from 'node:os';
import { TsopsError, UsageError } from '../../errors.js';
import { readInput, readStdin } from '../../io/input.js';
import { generate, isKsopsObject, readManifest, type GenerateContext, type Generated } from '../../krm/ksops.js';
import { kustomizationRoot } from '../../krm/paths.js';
import { keyOptions } from '../options.js';
import { writeOut, type CliContext } from '../context.js';

const USAGE = `Usage:
  tsops krm MANIFEST        legacy kustomize exec plugin: print the resources a ksops manifest describes
  tsops krm < RESOURCELIST  KRM function: read a ResourceList (functionConfig: a ksops manifest), print one
  tsops krm install [--force]
                            install the legacy plugin where kustomize looks for ksops
                            ($XDG_CONFIG_HOME/kustomize/plugin/viaduct.ai/v1/ksops/ksops)

Paths in a manifest are relative to the working directory (kustomize runs plugins in the
kustomization's directory) and must stay inside it (or inside $TSOPS_KRM_ROOT).
`;

const RESOURCE_LIST_API = 'config.kubernetes.io/v1';

export async function run(args: string[], ctx: CliContext): Promise<number> {
  if (args[0] === '--help' || args[0] === '-h') {
    ctx.stdout.write(USAGE);
    return 0;
  }
  if (args[0] === 'install') {
    const extra = args.slice(1).filter((a) => a !== '--force');
    if (extra.length) throw new UsageError(`krm install takes only --force (got ${extra[0]})`);
    const { installPlugin } = await import('../../krm/install.js');
    const target = await installPlugin({ env: ctx.env, home: homedir(), force: args.includes('--force') });
    ctx.stdout.write(`installed the kustomize plugin viaduct.ai/v1 ksops: ${target}\n`);
    return 0;
  }
  if (args.length > 1) throw new UsageError('krm takes one manifest path, or a ResourceList on standard input (see tsops krm --help)');
  const generateContext: GenerateContext = { cwd: ctx.cwd, root: await kustomizationRoot(ctx.cwd, ctx.env), keys: keyOptions({}, ctx.env) };
  if (args.length === 1) return legacy(args[0]!, generateContext, ctx);
  if (ctx.stdinIsTTY) throw new UsageError('krm needs a manifest path, or a ResourceList on standard input (see tsops krm --help)');
  return resourceList(generateContext, ctx);
}

async function yamlModule(): Promise<typeof import('yaml')> {
  return import('yaml');
}

/** Parses YAML from a file of the user's (never decrypted text: the parser's messages quote the source). */
async function parseManifests(text: string, name: string): Promise<unknown[]> {
  const { parseAllDocuments } = await yamlModule();
  const docs = parseAllDocuments(text, { prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    const error = doc.errors[0];
    if (error) throw new TsopsError(`not valid YAML (${error.code} at line ${lineOf(text, error.pos[0])})`, 'failed', { file: name });
  }
  return list.map((doc) => doc.toJS({ maxAliasCount: 100 }) as unknown).filter((v) => v !== null && v !== undefined);
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

async function legacy(manifestPath: string, gen: GenerateContext, ctx: CliContext): Promise<number> {
  const raw = await readInput(manifestPath);
  const docs = await parseManifests(raw.toString('utf8'), manifestPath);
  if (docs.length === 0) throw new TsopsError("missing the 'files' or 'secretFrom' key of a ksops manifest", 'failed', { file: manifestPath });
  const generated: Generated[] = [];
  for (const doc of docs) generated.push(...(await generate(readManifest(doc, manifestPath), gen)));
  const { stringify } = await yamlModule();
  const chunks: Buffer[] = [];
  for (const [i, item] of generated.entries()) {
    if (i > 0) chunks.push(Buffer.from('---\n'));
    const bytes = item.kind === 'manifest' ? Buffer.from(item.bytes) : Buffer.from(stringify(item.object, { lineWidth: 0 }));
    chunks.push(bytes);
    if (bytes.length && bytes[bytes.length - 1] !== 0x0a) chunks.push(Buffer.from('\n'));
    if (item.kind === 'manifest') item.bytes.fill(0);
  }
  const out = Buffer.concat(chunks);
  for (const chunk of chunks) chunk.fill(0);
  try {
    await writeOut(ctx, out);
  } finally {
    out.fill(0);
  }
  return 0;
}

/**
 * The KRM function. kustomize hands a generator its functionConfig both as
 * `functionConfig` and as the one item; every ksops item is replaced by what it
 * describes, other items pass through, and the functionConfig is used only
 * when no item is a ksops manifest (as other orchestrators send it).
 */
async function resourceList(gen: GenerateContext, ctx: CliContext): Promise<number> {
  const input = await readStdin();
  const [list] = await parseManifests(input.toString('utf8'), 'stdin');
  if (typeof list !== 'object' || list === null || (list as Record<string, unknown>)['kind'] !== 'ResourceList') {
    throw new TsopsError('standard input is not a ResourceList', 'failed', { file: 'stdin' });
  }
  const { items = [], functionConfig } = list as { items?: unknown; functionConfig?: unknown };
  if (!Array.isArray(items)) throw new TsopsError('the ResourceList items must be a list', 'failed', { file: 'stdin' });
  const out: unknown[] = [];
  let found = false;
  for (const item of items) {
    if (!isKsopsObject(item)) {
      out.push(item);
      continue;
    }
    found = true;
    out.push(...(await resources(await generate(readManifest(item, manifestName(item)), gen))));
  }
  if (!found) {
    if (!isKsopsObject(functionConfig)) throw new TsopsError('neither the functionConfig nor any item is a ksops manifest (apiVersion: viaduct.ai/v1, kind: ksops)', 'failed', { file: 'stdin' });
    out.push(...(await resources(await generate(readManifest(functionConfig, manifestName(functionConfig)), gen))));
  }
  const { stringify } = await yamlModule();
  await writeOut(ctx, stringify({ apiVersion: RESOURCE_LIST_API, kind: 'ResourceList', items: out }, { lineWidth: 0 }));
  return 0;
}

function manifestName(manifest: Record<string, unknown>): string {
  const name = (manifest['metadata'] as Record<string, unknown> | undefined)?.['name'];
  return typeof name === 'string' ? `ksops manifest ${name}` : 'ksops manifest';
}

/** Decrypted manifests as objects. Parse failures name the file only: the parser's message would quote decrypted text. */
async function resources(generated: Generated[]): Promise<unknown[]> {
  const { parseAllDocuments } = await yamlModule();
  const out: unknown[] = [];
  for (const item of generated) {
    if (item.kind === 'secret') {
      out.push(item.object);
      continue;
    }
    const text = Buffer.from(item.bytes).toString('utf8');
    item.bytes.fill(0);
    const docs = parseAllDocuments(text, { prettyErrors: false });
    for (const doc of Array.isArray(docs) ? docs : [docs]) {
      if (doc.errors.length) throw new TsopsError('the decrypted file is not a YAML or JSON manifest', 'failed', { file: item.file });
      const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
      if (value !== null && value !== undefined) out.push(value);
    }
  }
  return out;
}

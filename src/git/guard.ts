import { basename, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { CONFIG_NAMES, findConfig, matchCreationRule, parseConfig } from '../config/index.js';
import { loadConfig } from '../config/resolve.js';
import type { Config, CreationRule } from '../config/types.js';
import { MacMismatchError, DecryptionError, NoKeyError, TsopsError, UsageError } from '../errors.js';
import { formatForPath } from '../formats/format.js';
import { readStore } from '../formats/detect.js';
import type { KeyOptions } from '../keys/masterkey.js';
import { verifyOpens } from '../sops/open.js';
import { readMetadata } from '../sops/metadata.js';
import { isCheckedBinding, STRUCTURE_FIELD } from '../sops/structure.js';
import { DEFAULT_RULE, EncryptionPolicy } from '../sops/rules.js';
import { plaintextLeaves } from '../sops/tree-crypto.js';
import type { ParsedFile } from '../tree.js';
import { git, gitRoot } from './repo.js';

export interface GuardViolation {
  file: string;
  problem: string;
  fix: string;
}

/** One staged path with the mode and blob the commit would record. */
export interface StagedEntry {
  path: string;
  mode: string;
  blob: string;
  /** The blob at HEAD (all zeros for a new path). */
  headBlob: string;
}

const SYMLINK = '120000';
const REGULAR = new Set(['100644', '100755']);
/** How many key paths one violation lists before it says "and N more". */
const MAX_PATHS = 5;

/**
 * The pre-commit guard. A staged file is covered when a creation rule's
 * `path_regex` matches it (as sops matches: relative to the config), or when `.gitattributes`
 * (the working copy's or the staged one) routes it to tsops. Every covered
 * file must be encrypted, with every value its rules encrypt still
 * `ENC[...]`; with keys at hand its MAC must verify too. Only the staged
 * blobs are read: the working copy does not matter. Additions, changes,
 * copies, renames (seen as additions) and type changes are all checked.
 */
export async function checkStaged(cwd: string, keys: KeyOptions, env: NodeJS.ProcessEnv, only?: string[]): Promise<{ checked: string[]; violations: GuardViolation[]; unbound: string[] }> {
  const root = gitRoot(cwd);
  const staged = only ? namedEntries(root, cwd, only) : stagedEntries(root);
  if (staged.length === 0) return { checked: [], violations: [], unbound: [] };
  const routed = routedByAttributes(root, staged.map((e) => e.path));
  const rules = new RuleLookup(root, env);
  const index = new Map(staged.map((e) => [e.path, e]));
  const todo: { entry: StagedEntry; target: { path: string; blob: string }; rule: CreationRule | undefined }[] = [];
  for (const entry of staged) {
    const { covered, rule } = CONFIG_NAMES.includes(basename(entry.path)) ? { covered: false, rule: undefined } : await rules.coverage(entry.path);
    if (!covered && !routed.has(entry.path)) continue;
    const target = contentOf(root, entry, index);
    if (target) todo.push({ entry, target, rule });
  }
  const blobs = readBlobs(root, todo.map((t) => t.target.blob));
  const violations: GuardViolation[] = [];
  const withoutBinding: StagedEntry[] = [];
  try {
    for (const { entry, target, rule } of todo) {
      const shown = target.path === entry.path ? entry.path : `${entry.path} (a link to ${target.path})`;
      const outcome = await checkBlob(target.path, Buffer.from(blobs.get(target.blob)!), keys, rule);
      if ('problem' in outcome) violations.push({ file: shown, ...outcome });
      else if (!outcome.bound && target.path === entry.path) withoutBinding.push(entry);
    }
  } finally {
    for (const blob of blobs.values()) blob.fill(0);
  }
  return { checked: todo.map((t) => t.entry.path), violations, unbound: lostBinding(root, withoutBinding) };
}

/**
 * Staged encrypted files without a structure binding whose version at HEAD
 * had one: rewritten by sops (which drops fields it does not know), or
 * stripped by hand. Only the old blobs of those files are read.
 */
function lostBinding(root: string, entries: StagedEntry[]): string[] {
  // A new path may be an old file renamed or copied: its committed version is the source's.
  const sources = entries.some((e) => /^0+$/.test(e.headBlob)) ? renameSources(root) : new Map<string, string>();
  const committed = entries.map((e) => ({ path: e.path, blob: /^0+$/.test(e.headBlob) ? sources.get(e.path) : e.headBlob })).filter((e): e is { path: string; blob: string } => e.blob !== undefined);
  const blobs = readBlobs(root, committed.map((e) => e.blob));
  try {
    return committed.filter((e) => blobs.get(e.blob)!.includes(STRUCTURE_FIELD)).map((e) => e.path);
  } finally {
    for (const blob of blobs.values()) blob.fill(0);
  }
}

/** Staged renames and copies, new path → the blob it came from at HEAD. */
function renameSources(root: string): Map<string, string> {
  const fields = git(['diff', '--cached', '--raw', '-z', '-M', '-C', '--no-abbrev', '--diff-filter=RC'], root).toString('utf8').split('\0');
  const out = new Map<string, string>();
  // ":<old mode> <new mode> <old blob> <new blob> R<score>", then the old and the new path
  for (let i = 0; i + 2 < fields.length; i += 3) {
    const [, , oldBlob] = fields[i]!.slice(1).split(' ');
    if (oldBlob && fields[i + 2]) out.set(fields[i + 2]!, oldBlob);
  }
  return out;
}

/** The contents of the given blobs, read by one `git cat-file --batch`. */
export function readBlobs(root: string, ids: string[]): Map<string, Buffer> {
  const blobs = new Map<string, Buffer>();
  const unique = [...new Set(ids)];
  if (unique.length === 0) return blobs;
  const out = git(['cat-file', '--batch'], root, unique.join('\n') + '\n');
  let at = 0;
  for (const id of unique) {
    const eol = out.indexOf(0x0a, at);
    // "<id> blob <size>", then the content and a newline
    const size = Number(out.subarray(at, eol).toString('latin1').split(' ')[2]);
    if (!Number.isSafeInteger(size)) throw new TsopsError(`git could not read staged blob ${id}`);
    blobs.set(id, out.subarray(eol + 1, eol + 1 + size));
    at = eol + 1 + size + 1;
  }
  out.fill(0, at);
  return blobs;
}

/** Every path whose staged content differs from HEAD, except deletions (renames and copies show as additions). */
export function stagedEntries(root: string): StagedEntry[] {
  const fields = git(['diff', '--cached', '--raw', '-z', '--no-renames', '--no-abbrev', '--diff-filter=d'], root).toString('utf8').split('\0');
  const out: StagedEntry[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    // ":<old mode> <new mode> <old blob> <new blob> <status>", then the path
    const [, mode, headBlob, blob] = fields[i]!.slice(1).split(' ');
    if (mode && blob && headBlob && fields[i + 1]) out.push({ path: fields[i + 1]!, mode, blob, headBlob });
  }
  return out;
}

/**
 * The index entries of the named files (a pre-commit framework hook is handed
 * the files to check, and `--all-files` names unchanged ones too): a staged
 * change as the diff shows it, any other tracked file as the index holds it.
 */
export function namedEntries(root: string, cwd: string, files: string[]): StagedEntry[] {
  const wanted = new Set<string>();
  for (const file of files) {
    const rel = relative(root, resolve(cwd, file));
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new UsageError(`${file} is not a file in this repository`);
    wanted.add(rel.split(sep).join('/'));
  }
  const out = stagedEntries(root).filter((e) => wanted.has(e.path));
  for (const e of out) wanted.delete(e.path);
  if (wanted.size === 0) return out;
  // "<mode> <blob> <stage>\t<path>" per entry; a file in conflict (stage 1-3) is not committable yet.
  for (const line of git(['ls-files', '-s', '-z'], root).toString('utf8').split('\0')) {
    const tab = line.indexOf('\t');
    const [mode, blob, stage] = line.slice(0, tab).split(' ');
    const path = line.slice(tab + 1);
    if (tab > 0 && stage === '0' && mode && blob && wanted.has(path)) out.push({ path, mode, blob, headBlob: blob });
  }
  return out;
}

/** Paths whose `diff` attribute is `tsops` in the working copy's or the index's `.gitattributes`. */
function routedByAttributes(root: string, paths: string[]): Set<string> {
  const input = paths.join('\0') + '\0';
  const routed = new Set<string>();
  for (const extra of [[], ['--cached']]) {
    const out = git(['check-attr', '-z', '--stdin', ...extra, 'diff'], root, input).toString('utf8').split('\0');
    for (let i = 0; i + 2 < out.length; i += 3) if (out[i + 2] === 'tsops') routed.add(out[i]!);
  }
  return routed;
}

/**
 * The blob a covered entry commits: its own for a regular file, the target's
 * for a link to another staged file in the repository; none for a link out of
 * it or a submodule (nothing of the secret is committed).
 */
function contentOf(root: string, entry: StagedEntry, index: Map<string, StagedEntry>): { path: string; blob: string } | undefined {
  if (REGULAR.has(entry.mode)) return { path: entry.path, blob: entry.blob };
  if (entry.mode !== SYMLINK) return undefined;
  const link = git(['cat-file', 'blob', entry.blob], root).toString('utf8');
  if (isAbsolute(link)) return undefined;
  const target = posix.normalize(posix.join(posix.dirname(entry.path), link));
  if (target.startsWith('../')) return undefined;
  const staged = index.get(target);
  if (staged) return REGULAR.has(staged.mode) ? { path: target, blob: staged.blob } : undefined;
  // "<mode> <blob> <stage>\t<path>" per entry; a directory lists its files, which are not this target.
  for (const line of git(['ls-files', '-s', '-z', '--', `:(literal)${target}`], root).toString('utf8').split('\0')) {
    const tab = line.indexOf('\t');
    const [mode, blob] = line.slice(0, tab).split(' ');
    if (tab > 0 && line.slice(tab + 1) === target && mode && blob && REGULAR.has(mode)) return { path: target, blob };
  }
  return undefined;
}

/**
 * Creation rules as sops applies them to each path: the nearest config (or
 * SOPS_CONFIG). When that config is itself in the repository, its staged
 * version counts too, so staging a narrower config does not let a file slip
 * through in the same commit.
 */
class RuleLookup {
  private readonly configs = new Map<string, Config[]>();

  constructor(private readonly root: string, private readonly env: NodeJS.ProcessEnv) {}

  /**
   * Whether some rule's path_regex matches the path (in the working copy's
   * config or the staged one), and the rule sops would encrypt it with (the
   * first that matches, with or without a path_regex).
   */
  async coverage(path: string): Promise<{ covered: boolean; rule?: CreationRule }> {
    const configPath = await findConfig({ target: join(this.root, path), cwd: this.root, env: this.env });
    if (!configPath) return { covered: false };
    const file = join(this.root, path);
    let covered = false;
    let rule: CreationRule | undefined;
    for (const config of await this.load(configPath)) {
      const withRegex = { ...config, creationRules: config.creationRules?.filter((r) => r.pathRegex !== undefined) };
      covered ||= matchCreationRule(withRegex, configPath, file, this.root) !== undefined;
      rule ??= matchCreationRule(config, configPath, file, this.root);
    }
    return rule ? { covered, rule } : { covered };
  }

  private async load(configPath: string): Promise<Config[]> {
    const cached = this.configs.get(configPath);
    if (cached) return cached;
    const found = [await loadConfig(configPath)];
    const inRepo = relative(this.root, configPath);
    if (!inRepo.startsWith('..') && !isAbsolute(inRepo)) {
      let text: string | undefined;
      try {
        text = git(['show', `:${inRepo.split('\\').join('/')}`], this.root).toString('utf8');
      } catch {
        text = undefined; // not in the index
      }
      if (text !== undefined) found.push(parseConfig(text, `${configPath} (staged)`));
    }
    this.configs.set(configPath, found);
    return found;
  }
}

/** A problem that refuses the commit, or (for a sound encrypted file) whether it carries a structure binding. */
type BlobOutcome = { problem: string; fix: string } | { bound: boolean };

async function checkBlob(file: string, blob: Buffer, keys: KeyOptions, rule: CreationRule | undefined): Promise<BlobOutcome> {
  let parsed: ParsedFile;
  try {
    ({ parsed } = await readStore(blob, formatForPath(file), { file, needMetadata: true }));
  } catch (e) {
    return { problem: `cannot be read (${(e as Error).message})`, fix: 'fix the file, then encrypt it' };
  } finally {
    blob.fill(0);
  }
  if (!parsed.metadata) {
    const plain = plaintextLeaves(parsed.documents, new EncryptionPolicy(rule?.rule ?? DEFAULT_RULE));
    const where = plain.length ? ` (plaintext at ${listPaths(plain)})` : '';
    return { problem: `is not encrypted${where}`, fix: `tsops encrypt -i ${shellWord(file)} && git add ${shellWord(file)}` };
  }
  let metadata;
  try {
    metadata = readMetadata(parsed.metadata);
  } catch (e) {
    if (e instanceof TsopsError) return { problem: e.message, fix: 're-encrypt it with tsops' };
    throw e;
  }
  const plain = plaintextLeaves(parsed.documents, new EncryptionPolicy(metadata.rule ?? DEFAULT_RULE));
  if (plain.length) return { problem: `has plaintext where its rules want encrypted values: ${listPaths(plain)}`, fix: `restore the encrypted values, or set them with tsops (tsops set ${shellWord(file)} PATH VALUE), and stage it again` };
  try {
    await verifyOpens(parsed, { keys });
  } catch (e) {
    if (e instanceof NoKeyError) return { bound: isCheckedBinding(metadata.structure) }; // no keys here: values and metadata checked, the MAC cannot be
    if (e instanceof MacMismatchError || e instanceof DecryptionError) return { problem: `does not verify (${e.message})`, fix: `re-encrypt it with tsops (tsops edit ${shellWord(file)}) and stage it again` };
    if (e instanceof TsopsError) return { problem: e.message, fix: 're-encrypt it with tsops' };
    throw e;
  }
  return { bound: isCheckedBinding(metadata.structure) };
}

/** A path as one shell word, so the suggested fix can be pasted as it is. */
export function shellWord(path: string): string {
  return /^[A-Za-z0-9._/@%+=:,-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`;
}

function listPaths(paths: string[]): string {
  const shown = paths.slice(0, MAX_PATHS).join(', ');
  return paths.length > MAX_PATHS ? `${shown} and ${paths.length - MAX_PATHS} more` : shown;
}

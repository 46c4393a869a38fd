import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { destinationUrl, matchDestinationRule, type Destination, type MatchedDestination } from '../../config/destinations.js';
import { findConfig } from '../../config/find.js';
import { keyGroupsForRule } from '../../config/keys.js';
import { loadConfig } from '../../config/resolve.js';
import type { Config } from '../../config/types.js';
import { aboutFile, ConfigError, MalformedFileError, MetadataNotFoundError, TsopsError, UsageError, InputError } from '../../errors.js';
import { escapeControl } from '../../escape.js';
import { loadFormat } from '../../formats/format.js';
import { keyIdentity } from '../../keys/masterkey.js';
import { readMetadata } from '../../sops/metadata.js';
import { encryptDocument, type EncryptSettings } from '../../sops/index.js';
import { verifyOpens } from '../../sops/open.js';
import type { ParsedFile } from '../../tree.js';
import { logTo, say, warn, type CliContext } from '../context.js';
import { decryptionOrder, inputFormat, keyOptions, type CommonFlags } from '../options.js';

export interface PublishFlags extends CommonFlags {
  yes?: boolean;
  omitExtensions?: boolean;
  recursive?: boolean;
}

/**
 * `publish FILE | --recursive DIR`: sends encrypted files where the config's
 * `destination_rules` say, as sops does: S3 gets the file (re-encrypted for
 * the rule's `recreation_rule` keys when it names any, else as it is), Vault
 * KV gets the decrypted values; GCS is not supported. Asks before each upload
 * unless --yes; stops at the first failure.
 */
export async function publishCommand(path: string | undefined, flags: PublishFlags, ctx: CliContext): Promise<number> {
  // sops looks for the config from the current directory, before it looks at the file.
  const configPath = await findConfig({ cwd: ctx.cwd, env: ctx.env, ...(flags.config ? { explicit: flags.config } : {}) });
  if (!configPath) throw new ConfigError('config file not found: publish needs destination_rules in .sops.yaml or .sopsrc');
  if (!path) throw new UsageError('no file specified', 'no-file-given');
  let isDir: boolean;
  try {
    // The path named on the command line is followed (as sops's os.Stat does); links found inside a directory are not.
    isDir = statSync(resolve(ctx.cwd, path)).isDirectory();
  } catch {
    throw new TsopsError('no such file or directory', 'failed', { file: path });
  }
  if (isDir && !flags.recursive) throw new UsageError("can't operate on a directory without --recursive flag.", 'bad-usage');
  const config = await loadConfig(configPath);
  for (const file of isDir ? walk(path, ctx) : [path]) await publishFile(file, config, configPath, flags, ctx);
  return 0;
}

/** Every file under `dir` in lexical order, as Go's filepath.Walk yields them; symbolic links are skipped. */
function walk(dir: string, ctx: CliContext): string[] {
  const out: string[] = [];
  const visit = (d: string): void => {
    for (const name of readdirSync(resolve(ctx.cwd, d)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) {
      const p = join(d, name);
      const st = lstatSync(resolve(ctx.cwd, p));
      if (st.isDirectory()) visit(p);
      else if (st.isSymbolicLink()) warn(ctx, `${p}: skipped: a symbolic link`);
      else if (st.isFile()) out.push(p);
    }
  };
  visit(dir);
  return out;
}

/** Go's filepath.Ext: from the last dot of the last path element, dot included. */
function goExt(path: string): string {
  for (let i = path.length - 1; i >= 0 && path[i] !== '/'; i--) if (path[i] === '.') return path.slice(i);
  return '';
}

async function publishFile(file: string, config: Config, configPath: string, flags: PublishFlags, ctx: CliContext): Promise<void> {
  const matched = matchDestinationRule(config, configPath, file, ctx.cwd);
  const destination = matched.destination;
  if (!destination) throw new ConfigError('no destination configured for this file', { file });
  if (destination.kind === 'gcs') {
    throw new ConfigError(`destination_rules[${matched.rule.index}] (${configPath}:${matched.rule.line}): gcs_bucket destinations are not supported by tsops (use s3_bucket or vault_path)`, { file });
  }
  const destinationPath = flags.omitExtensions || matched.omitExtensions ? file.slice(0, file.length - goExt(file).length) : file;
  const absolute = resolve(ctx.cwd, file);

  const format = inputFormat(flags, file);
  const bytes = readFileSync(absolute);
  const parsed = await aboutFile(file, async () => {
    try {
      return (await loadFormat(format)).parse(bytes, { file });
    } catch (e) {
      if (e instanceof InputError) throw new MalformedFileError(e.message, { file });
      throw e;
    }
  });
  if (!parsed.metadata) throw new MetadataNotFoundError({ file });

  let upload: { kind: 'file'; contents: Uint8Array } | { kind: 'tree'; json: string };
  if (destination.kind === 'vault') {
    await aboutFile(file, () => verifyOpens(parsed, decryptOptions(flags, ctx)));
    upload = { kind: 'tree', json: (await import('../../publish/data.js')).treeAsJson(parsed.documents) };
  } else {
    upload = { kind: 'file', contents: await aboutFile(file, () => s3Contents(parsed, bytes, matched, configPath, flags, ctx)) };
  }

  const vaultAddress = destination.kind === 'vault' ? (await import('../../publish/vault.js')).vaultAddress(destination, ctx.env) : '';
  const target = destinationUrl(destination, destinationPath, vaultAddress);
  if (!flags.yes) await confirmUpload(absolute, target, ctx);
  await aboutFile(file, () => send(destination, destinationPath, upload, flags, ctx));
  if (flags.verbose) say(ctx, `${file}: published to ${target}`);
}

function decryptOptions(flags: PublishFlags, ctx: CliContext) {
  const order = decryptionOrder(flags, ctx.env);
  return { keys: keyOptions(flags, ctx.env, logTo(ctx)), ...(order ? { decryptionOrder: order } : {}) };
}

/**
 * What S3 gets: with a recreation rule that names keys, the file decrypted
 * (MAC checked) and encrypted again for those keys under a new data key;
 * otherwise the file's bytes unchanged.
 */
async function s3Contents(parsed: ParsedFile, bytes: Uint8Array, matched: MatchedDestination, configPath: string, flags: PublishFlags, ctx: CliContext): Promise<Uint8Array> {
  const rule = matched.recreationRule;
  const keyGroups = rule ? keyGroupsForRule(rule, configPath) : [];
  if (keyGroups.length === 0) return bytes;
  const before = readMetadata(parsed.metadata!).keyGroups.flat().map(keyIdentity);
  await verifyOpens(parsed, decryptOptions(flags, ctx));
  const after = keyGroups.flat().map(keyIdentity);
  const added = after.filter((k) => !before.includes(k));
  const removed = before.filter((k) => !after.includes(k));
  if (added.length || removed.length) {
    ctx.stdout.write("The following changes will be made to the file's key groups:\n");
    for (const k of added) ctx.stdout.write(`    +++ ${escapeControl(k)}\n`);
    for (const k of removed) ctx.stdout.write(`    --- ${escapeControl(k)}\n`);
  }
  const settings: EncryptSettings = { keyGroups };
  if (rule!.rule) settings.rule = rule!.rule;
  if (rule!.shamirThreshold) settings.shamirThreshold = rule!.shamirThreshold;
  if (rule!.macOnlyEncrypted) settings.macOnlyEncrypted = true;
  await encryptDocument(parsed, settings, keyOptions(flags, ctx.env));
  return (await loadFormat(parsed.format)).emit(parsed, {});
}

async function confirmUpload(absolute: string, target: string, ctx: CliContext): Promise<void> {
  if (!ctx.stdinIsTTY) throw new UsageError(`publish asks before uploading ${absolute} to ${target}: run it on a terminal, or pass --yes`, 'bad-usage');
  const { confirm } = await import('@inquirer/prompts');
  if (!(await confirm({ message: `uploading ${escapeControl(absolute)} to ${escapeControl(target)} ?`, default: false }))) throw new TsopsError('Publish canceled');
}

async function send(destination: Exclude<Destination, { kind: 'gcs' }>, destinationPath: string, upload: { kind: 'file'; contents: Uint8Array } | { kind: 'tree'; json: string }, flags: PublishFlags, ctx: CliContext): Promise<void> {
  if (destination.kind === 's3' && upload.kind === 'file') {
    await (await import('../../publish/s3.js')).uploadToS3(destination, destinationPath, upload.contents, ctx.env, flags.verbose ? (l) => say(ctx, l) : undefined);
  } else if (destination.kind === 'vault' && upload.kind === 'tree') {
    const result = await (await import('../../publish/vault.js')).uploadToVault(destination, destinationPath, upload.json, ctx.env, (l) => warn(ctx, l));
    if (result.unchanged && flags.verbose) say(ctx, `secret in ${result.url} is already up-to-date`);
  }
}

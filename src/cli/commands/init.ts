import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { existingRecipient, initRepository } from '../../git/init.js';
import { gitRoot, installGitIntegration } from '../../git/install.js';
import { repositoryPatterns } from '../../git/patterns.js';
import { refuseSymlink } from '../../git/repo.js';
import { PERSONAL_KIND } from '../../keys/registry.js';
import { warn, type CliContext } from '../context.js';
import { attributeOf } from '../key-flags.js';
import { splitCommaList } from '../../comma-list.js';

export interface InitFlags {
  pathRegex?: string;
  /** The personal kind's recipients flag (`--age`), by its commander attribute. */
  [recipientsFlag: string]: unknown;
  key?: boolean;
  ignore?: string;
  git?: boolean;
  yes?: boolean;
}

const DEFAULT_REGEX = '\\.enc\\.(ya?ml|json|env|ini)$';
const DEFAULT_IGNORE = '*.dec.yaml,*.dec.json,*.dec.env,.env.local';

/**
 * `tsops init`: asks on a terminal (flags answer the questions for scripts),
 * then creates what is missing and leaves the rest alone.
 */
export async function initCommand(flags: InitFlags, ctx: CliContext): Promise<number> {
  let root = ctx.cwd;
  let inGit = true;
  try {
    root = gitRoot(ctx.cwd);
  } catch {
    inGit = false;
  }
  const ask = ctx.stdinIsTTY && !flags.yes;
  let pathRegex = flags.pathRegex ?? DEFAULT_REGEX;
  let extra = splitCommaList(String(flags[attributeOf(PERSONAL_KIND.flag)] ?? ''));
  let createKey = flags.key !== false;
  let ignore = splitCommaList(flags.ignore ?? DEFAULT_IGNORE);
  let installGit = inGit && flags.git !== false;
  const hasConfig = ['.sopsrc', '.sops.yaml', '.sops.yml'].some((n) => existsSync(join(root, n)));
  if (ask) {
    const { confirm, input } = await import('@inquirer/prompts');
    const own = existingRecipient(ctx.env);
    createKey = own ? true : await confirm({ message: 'You have no age key yet. Create one in the default keys file?', default: true });
    if (!hasConfig) {
      pathRegex = await input({ message: 'Which files hold secrets (a regular expression on their path)?', default: pathRegex });
      extra = splitCommaList(await input({ message: 'Other age recipients (teammates, CI), comma-separated:', default: extra.join(',') }));
    }
    ignore = splitCommaList(await input({ message: 'Plaintext files to keep out of git (.gitignore patterns, comma-separated):', default: ignore.join(',') }));
    if (inGit) installGit = await confirm({ message: 'Install the git integration (plaintext diffs, merges, pre-commit guard)?', default: true });
  }
  if (installGit) refuseSymlink(join(root, '.gitattributes'));
  const result = await initRepository({ dir: root, pathRegex, recipients: extra, createKey, ignore, env: ctx.env });
  const lines: string[] = [];
  if (result.keyCreated) lines.push(`created an age key in ${result.keyCreated.path} (recipient ${result.keyCreated.recipient})`);
  if (result.configWritten) lines.push(`wrote ${join(root, '.sopsrc')}`);
  if (result.ignoreAdded.length) lines.push(`added to .gitignore: ${result.ignoreAdded.join(', ')}`);
  if (!inGit && flags.git !== false) lines.push('not a git repository; the git integration is not installed');
  if (installGit) {
    const derived = await repositoryPatterns(root, ctx.env);
    for (const line of derived.unmapped) warn(ctx, `${line}; not added to .gitattributes (the guard still checks it)`);
    const git = await installGitIntegration(root, derived.patterns, 'tsops');
    if (git.attributesAdded.length || git.hookInstalled) lines.push('installed the git integration');
  }
  ctx.stdout.write(lines.length ? lines.map((l) => `tsops init: ${l}\n`).join('') : 'tsops init: nothing to do, already set up\n');
  return 0;
}

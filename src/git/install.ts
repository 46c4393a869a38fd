import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../io/atomic-write.js';
import { git, gitRoot, refuseSymlink } from './repo.js';

export { gitRoot };

/**
 * Wires tsops into a repository: .gitattributes routes the given patterns
 * through the tsops diff and merge drivers, the repository's git config names
 * the commands, and a pre-commit hook runs the guard. Running it twice changes
 * nothing.
 */
export interface InstallResult {
  attributesAdded: string[];
  hookInstalled: boolean;
}

const HOOK_MARKER = '# tsops guard';

export async function installGitIntegration(cwd: string, patterns: string[], command: string): Promise<InstallResult> {
  const root = gitRoot(cwd);
  const attributesPath = join(root, '.gitattributes');
  refuseSymlink(attributesPath);
  const config = (key: string, value: string): void => {
    git(['config', '--local', key, value], root);
  };
  config('diff.tsops.textconv', `${command} git textconv --`);
  config('diff.tsops.cachetextconv', 'false');
  config('merge.tsops.name', 'tsops: merge encrypted files value by value');
  config('merge.tsops.driver', `${command} merge-driver -- %O %A %B %P`);

  const existing = existsSync(attributesPath) ? readFileSync(attributesPath, 'utf8') : '';
  const lines = new Set(existing.split('\n').map((l) => l.trim()));
  const added: string[] = [];
  for (const pattern of patterns) {
    const line = `${pattern} diff=tsops merge=tsops`;
    if (!lines.has(line)) added.push(line);
  }
  if (added.length) await writeFileAtomic(attributesPath, Buffer.from(existing + (existing && !existing.endsWith('\n') ? '\n' : '') + added.join('\n') + '\n'), { mode: 0o644 });

  const hooksDir = resolve(root, git(['rev-parse', '--git-path', 'hooks'], root).toString('utf8').trim());
  const hookPath = join(hooksDir, 'pre-commit');
  mkdirSync(hooksDir, { recursive: true });
  const hook = existsSync(hookPath) ? readFileSync(hookPath, 'utf8') : '';
  let hookInstalled = false;
  if (!hook.includes(HOOK_MARKER)) {
    const body = hook ? `${hook.replace(/\n?$/, '\n')}\n${HOOK_MARKER}\n${command} guard --staged || exit $?\n` : `#!/bin/sh\n${HOOK_MARKER}\n${command} guard --staged || exit $?\n`;
    await writeFileAtomic(hookPath, Buffer.from(body), { mode: 0o755 });
    chmodSync(hookPath, 0o755);
    hookInstalled = true;
  }
  return { attributesAdded: added, hookInstalled };
}

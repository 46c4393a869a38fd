/**
 * `tsops krm install`: the legacy exec plugin where kustomize looks for ksops,
 * `$KUSTOMIZE_PLUGIN_HOME` or `$XDG_CONFIG_HOME/kustomize/plugin` (default
 * `~/.config/kustomize/plugin`), then `viaduct.ai/v1/ksops/ksops`: a small
 * shell script that runs this installation of tsops with the same Node.
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { TsopsError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';

/** Marks a plugin file this command wrote, so a reinstall may replace it and nothing else. */
const MARKER = '# tsops krm: ksops-compatible kustomize plugin';

export function pluginPath(env: NodeJS.ProcessEnv, home: string): string {
  const pluginHome = env['KUSTOMIZE_PLUGIN_HOME'];
  if (pluginHome && isAbsolute(pluginHome)) return join(pluginHome, 'viaduct.ai', 'v1', 'ksops', 'ksops');
  const config = env['XDG_CONFIG_HOME'] && isAbsolute(env['XDG_CONFIG_HOME']) ? env['XDG_CONFIG_HOME'] : join(home, '.config');
  return join(config, 'kustomize', 'plugin', 'viaduct.ai', 'v1', 'ksops', 'ksops');
}

/** POSIX shell single quotes: the path is taken as it is. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * The command the plugin runs: this Node and the package's `tsops-krm` bin
 * (found next to the script that started this process, links resolved so an
 * npm `.bin` link points at the package itself).
 */
export function pluginScript(nodePath: string, startedAs: string): string {
  const script = realpathSync(startedAs);
  const krmBin = join(dirname(script), 'tsops-krm.cjs');
  const command = existsSync(krmBin) ? `${shellQuote(nodePath)} ${shellQuote(krmBin)}` : `${shellQuote(nodePath)} ${shellQuote(script)} krm`;
  return `#!/bin/sh\n${MARKER}\nexec ${command} "$@"\n`;
}

export async function installPlugin(options: { env: NodeJS.ProcessEnv; home: string; force: boolean; platform?: NodeJS.Platform; startedAs?: string }): Promise<string> {
  if ((options.platform ?? process.platform) === 'win32') {
    throw new TsopsError('kustomize starts a legacy exec plugin directly, and Windows starts only native programs that way: use the KRM function form (exec path: tsops-krm) instead');
  }
  const startedAs = options.startedAs ?? process.argv[1];
  if (!startedAs) throw new TsopsError('cannot tell where tsops is installed');
  const target = pluginPath(options.env, options.home);
  const { mkdir, readFile } = await import('node:fs/promises');
  const existing = await readFile(target, 'utf8').catch(() => undefined);
  if (existing !== undefined && !existing.includes(MARKER) && !options.force) {
    throw new TsopsError('a plugin that tsops did not write is there (ksops itself?); --force replaces it', 'unwritable-output', { file: target });
  }
  await mkdir(dirname(target), { recursive: true, mode: 0o755 });
  await writeFileAtomic(target, Buffer.from(pluginScript(process.execPath, startedAs)), { mode: 0o755 });
  return target;
}

import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, join } from 'node:path';
import { TsopsError } from '../errors.js';
import { registerForegroundChild } from './process-lifecycle.js';
import { splitCommand } from './split-command.js';

function onPath(name: string, env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
}

/** `$SOPS_EDITOR`, `$VISUAL`, `$EDITOR` (commands with arguments allowed), else vim, nano or vi. */
export function resolveEditor(env: NodeJS.ProcessEnv): string[] {
  for (const name of ['SOPS_EDITOR', 'VISUAL', 'EDITOR']) {
    const value = env[name]?.trim();
    if (value) return splitCommand(value);
  }
  for (const fallback of ['vim', 'nano', 'vi']) if (onPath(fallback, env)) return [fallback];
  throw new TsopsError('no editor found: set $EDITOR (or $SOPS_EDITOR)', 'no-editor');
}

/**
 * Runs the editor on `file` with the terminal, and resolves with its exit code.
 * While it runs, Ctrl+C belongs to the editor, and any other terminating
 * signal ends the editor before tsops removes the temp file (see
 * {@link registerForegroundChild}).
 */
export function runEditor(command: string[], file: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const [bin, ...args] = command;
    const child = spawn(bin!, [...args, file], { stdio: 'inherit', env });
    const done = registerForegroundChild(child);
    child.on('error', (e: NodeJS.ErrnoException) => {
      done();
      reject(new TsopsError(`could not run the editor '${bin}': ${e.code === 'ENOENT' ? 'not found' : e.message}`, 'no-editor'));
    });
    child.on('exit', (code, signal) => {
      done();
      resolve(code ?? 128 + (signal ? signalNumber(signal) : 0));
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return osConstants.signals[signal] ?? 1;
}

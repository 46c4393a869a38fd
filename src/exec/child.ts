/**
 * Running the user's command the way a shell would: terminal and stdio
 * shared, signals passed on, its exit status made ours. tsops always waits
 * for the child (no orphan) and Node reaps it (no zombie).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { TsopsError } from '../errors.js';
import { relaySignals, signalStatus } from '../io/process-lifecycle.js';

/** `/bin/sh -c TEXT` (sops's form) or an argument vector run without a shell. */
export type CommandLine = { shell: string } | { argv: string[] };

export interface ChildOptions {
  env: Record<string, string>;
  cwd: string;
  /** Run as this user and group (needs root). */
  uid?: number;
  gid?: number;
  /**
   * Take the child's stdout and stderr through pipes (stdin stays shared);
   * the outcome waits until this has finished with them. Without it the
   * child writes straight to tsops's own stdout and stderr.
   */
  relayOutput?: (stdout: Readable, stderr: Readable) => Promise<void>;
  /** Called once the child exists, e.g. to serve it a file. */
  onSpawn?: (child: ChildProcess) => void;
}

/** How the child ended: its exit code, or the signal that killed it. */
export type ChildOutcome = { code: number; signal?: undefined } | { signal: NodeJS.Signals; code?: undefined };

/** Runs the command to its end, forwarding {@link FORWARDED_SIGNALS} while it runs. */
export function runChild(command: CommandLine, options: ChildOptions): Promise<ChildOutcome> {
  const [file, args] = 'shell' in command ? ['/bin/sh', ['-c', command.shell]] : [command.argv[0], command.argv.slice(1)];
  if (file === undefined || file === '') return Promise.reject(new TsopsError('no command given'));
  return new Promise<ChildOutcome>((resolve, reject) => {
    let child: ChildProcess | undefined;
    // Installed in the same tick as the spawn: no signal can be handled before the child exists.
    let stopWaiting: (() => void) | undefined;
    const stopRelaying = relaySignals((signal) => {
      if (child && child.exitCode === null && child.signalCode === null) child.kill(signal);
      // The command is gone but something it started still holds its output open.
      else stopWaiting?.();
    });
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      stopRelaying();
      fn();
    };
    try {
      child = spawn(file, args, {
        stdio: options.relayOutput ? ['inherit', 'pipe', 'pipe'] : 'inherit',
        env: options.env,
        cwd: options.cwd,
        ...(options.uid !== undefined ? { uid: options.uid } : {}),
        ...(options.gid !== undefined ? { gid: options.gid } : {}),
      });
    } catch (e) {
      settle(() => reject(spawnError(e, file)));
      return;
    }
    child.once('error', (e) => settle(() => reject(spawnError(e, file))));
    const relayed = options.relayOutput && child.stdout && child.stderr ? options.relayOutput(child.stdout, child.stderr) : Promise.resolve();
    child.once('exit', (code, signal) => {
      const done = (): void => settle(() => resolve(signal ? { signal } : { code: code ?? 0 }));
      stopWaiting = () => {
        child?.stdout?.destroy();
        child?.stderr?.destroy();
        done();
      };
      // The last lines are still on their way (a background process may write more): the status waits for them.
      void relayed.then(done);
    });
    if (child.pid !== undefined) options.onSpawn?.(child);
  });
}

function spawnError(e: unknown, file: string): TsopsError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  // A shell tells these two failures apart too (its statuses 127 and 126).
  if (code === 'ENOENT') return new TsopsError(`${file}: command not found`, 'command-not-found');
  if (code === 'EACCES') return new TsopsError(`${file}: permission denied`, 'command-not-executable');
  if (code === 'EPERM') return new TsopsError(`cannot start ${file} as another user: operation not permitted`);
  return new TsopsError(`cannot start ${file}: ${code ?? 'error'}`);
}

/** The shell's number for an outcome: the exit code, or 128 + the signal's number. */
export function exitStatus(outcome: ChildOutcome): number {
  return outcome.signal === undefined ? outcome.code : signalStatus(outcome.signal);
}

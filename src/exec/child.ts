/**
 * Running the user's command the way a shell would: terminal and stdio
 * shared, signals passed on, its exit status made ours. tsops always waits
 * for the child (no orphan) and Node reaps it (no zombie).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { ExitCode, TsopsError } from '../errors.js';

/** `/bin/sh -c TEXT` (sops's form) or an argument vector run without a shell. */
export type CommandLine = { shell: string } | { argv: string[] };

/**
 * Signals tsops passes on to the child instead of dying from them. A signal
 * typed at the terminal (Ctrl-C) reaches the child twice, from the terminal
 * and from tsops, as with other wrappers that forward; programs that count
 * Ctrl-C presses may notice.
 */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

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
  if (file === undefined || file === '') return Promise.reject(new TsopsError('no command given', ExitCode.Generic));
  return new Promise<ChildOutcome>((resolve, reject) => {
    let child: ChildProcess | undefined;
    // Installed in the same tick as the spawn: no signal can be handled before the child exists.
    let stopWaiting: (() => void) | undefined;
    const relay = (signal: NodeJS.Signals): void => {
      if (child && child.exitCode === null && child.signalCode === null) child.kill(signal);
      // The command is gone but something it started still holds its output open.
      else stopWaiting?.();
    };
    for (const s of FORWARDED_SIGNALS) process.on(s, relay);
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      for (const s of FORWARDED_SIGNALS) process.off(s, relay);
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
  // 127 and 126 are what a shell answers for the same failures.
  if (code === 'ENOENT') return new TsopsError(`${file}: command not found`, 127);
  if (code === 'EACCES') return new TsopsError(`${file}: permission denied`, 126);
  if (code === 'EPERM') return new TsopsError(`cannot start ${file} as another user: operation not permitted`, ExitCode.Generic);
  return new TsopsError(`cannot start ${file}: ${code ?? 'error'}`, ExitCode.Generic);
}

/** The shell's number for an outcome: the exit code, or 128 + the signal's number. */
export function exitStatus(outcome: ChildOutcome): number {
  if (outcome.signal === undefined) return outcome.code;
  return 128 + (constants.signals[outcome.signal] ?? 0);
}

/**
 * Ends this process with the signal that ended the child, so whoever started
 * tsops sees the same status a bare command gives. Every listener for it goes
 * and its default action is restored first (Node ignores SIGPIPE and keeps
 * SIGUSR1 for the inspector). Returns 128+n for the rare signal whose default
 * is not to terminate; the caller exits with that.
 */
export function reraise(signal: NodeJS.Signals): number {
  process.removeAllListeners(signal);
  const noop = (): void => {};
  try {
    // Adding and removing a listener leaves the signal at its default disposition.
    process.on(signal, noop);
    process.off(signal, noop);
  } catch {
    // SIGKILL and SIGSTOP take no listener; their default cannot change anyway.
  }
  try {
    process.kill(process.pid, signal);
  } catch {
    // fall through to the numeric status
  }
  return exitStatus({ signal });
}

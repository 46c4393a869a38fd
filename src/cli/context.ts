import { OutputError } from '../errors.js';

/** What a command may touch of the outside world; tests and the library pass their own. */
export interface CliContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdinIsTTY: boolean;
}

export function processContext(): CliContext {
  process.stdout.on('error', onStdoutError);
  return {
    cwd: process.cwd(),
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    // Asked only by the commands that prompt: building the stdin stream (or loading tty) costs every other run start-up time.
    get stdinIsTTY() {
      return Boolean(process.stdin.isTTY);
    },
  };
}

export function warn(ctx: CliContext, message: string): void {
  ctx.stderr.write(`tsops: warning: ${message}\n`);
}

/**
 * A reader that stops early (`tsops decrypt f | head -1`) is not a failure:
 * the rest of the output is dropped quietly, as a tool killed by SIGPIPE would.
 */
function isBrokenPipe(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}

const STDOUT_FAILURE_CODE = 3;
let stdoutFailure: string | undefined;
let stdoutFailureShown = false;
let commandFinished = false;

function stdoutFailureMessage(err: NodeJS.ErrnoException): string {
  return `cannot write to standard output (${err.code ?? 'error'})`;
}

// Writes without a callback fail only through this event, often after the command has returned.
function onStdoutError(err: NodeJS.ErrnoException): void {
  if (isBrokenPipe(err) || stdoutFailure !== undefined) return;
  stdoutFailure = stdoutFailureMessage(err);
  if (commandFinished) settleStdout(process.exitCode === undefined ? 0 : Number(process.exitCode));
}

/** The exit code once a command is done: a failed stdout turns success into exit 3, reported on one line. */
export function settleStdout(code: number): number {
  commandFinished = true;
  if (stdoutFailure === undefined || stdoutFailureShown || code !== 0) {
    stdoutFailureShown ||= stdoutFailure !== undefined;
    return code;
  }
  stdoutFailureShown = true;
  process.stderr.write(`tsops: ${stdoutFailure}\n`);
  process.exitCode = STDOUT_FAILURE_CODE;
  return STDOUT_FAILURE_CODE;
}

/** Writes everything and waits until the stream has taken it (large outputs to pipes). */
export function writeOut(stream: NodeJS.WritableStream, data: Uint8Array | string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(data, (err) => (err && !isBrokenPipe(err) ? reject(new OutputError(stdoutFailureMessage(err))) : resolve()));
  });
}

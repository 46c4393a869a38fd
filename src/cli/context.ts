/** What a command may touch of the outside world; tests and the library pass their own. */
export interface CliContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdinIsTTY: boolean;
}

export function processContext(): CliContext {
  return { cwd: process.cwd(), env: process.env, stdout: process.stdout, stderr: process.stderr, stdinIsTTY: Boolean(process.stdin.isTTY) };
}

export function warn(ctx: CliContext, message: string): void {
  ctx.stderr.write(`tsops: warning: ${message}\n`);
}

/** Writes everything and waits until the stream has taken it (large outputs to pipes). */
export function writeOut(stream: NodeJS.WritableStream, data: Uint8Array | string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(data, (err) => (err ? reject(err) : resolve()));
  });
}

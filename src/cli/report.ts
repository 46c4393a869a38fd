import { describeError } from '../errors.js';
import { escapeControl } from '../escape.js';

/** The one place errors become output: a single `tsops: ...` line and sops's exit code. Never a stack trace. */
export function reportError(err: unknown, stderr: NodeJS.WritableStream): number {
  const { message, exitCode } = describeError(err);
  stderr.write(`tsops: ${escapeControl(message)}\n`);
  return exitCode;
}

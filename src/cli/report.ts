import { describeError } from '../errors.js';
import { escapeControl } from '../escape.js';
import { exitCodeOf } from './exit-codes.js';

/** The one place errors become output: a single `tsops: ...` line and sops's exit code. Never a stack trace. */
export function reportError(err: unknown, stderr: NodeJS.WritableStream): number {
  const { message, kind } = describeError(err);
  stderr.write(`tsops: ${escapeControl(message)}\n`);
  return exitCodeOf(kind);
}

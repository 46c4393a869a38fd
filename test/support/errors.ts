/** Failure checks the format tests share. */
import { expect } from 'vitest';
import { TsopsError } from '../../src/errors.js';

export function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

/** `fn` fails with `kind`, a message matching `message` that never quotes the sample secret (hunter2), naming `file` when given. */
export function expectCleanError(fn: () => unknown, kind: new (...args: never[]) => TsopsError, message: RegExp, file?: string): void {
  const error = errorOf(fn);
  expect(error).toBeInstanceOf(kind);
  expect(error.message).toMatch(message);
  expect(error.message).not.toMatch(/hunter2/);
  if (file !== undefined) expect((error as TsopsError).file).toBe(file);
}

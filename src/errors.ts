/**
 * Errors are values with a kind. The CLI maps each kind to sops's exit code
 * (src/cli/exit-codes.ts) and prints `tsops: <file>: <message>` on one line. Messages never contain
 * secret material: they name files, paths, key identities and reasons only.
 */

import { escapeControl } from './escape.js';

/**
 * What went wrong, as far as a caller needs to tell failures apart. The CLI
 * turns each kind into sops's exit code (src/cli/exit-codes.ts); library
 * callers switch on `err.kind`.
 */
export type ErrorKind =
  /** Anything without a more specific kind. */
  | 'failed'
  /** A flag, argument or command was used wrongly. */
  | 'bad-usage'
  /** Two flags were given that cannot go together. */
  | 'conflicting-flags'
  /** No file was named where one is needed. */
  | 'no-file-given'
  /** The named file does not exist. */
  | 'file-not-found'
  /** The input exists but cannot be read or parsed. */
  | 'unreadable-input'
  /** The output cannot be written. */
  | 'unwritable-output'
  /** The tree cannot be written in the requested format. */
  | 'unemittable-tree'
  /** The encrypted file is malformed (bad syntax, bad metadata). */
  | 'malformed-file'
  /** The file has no sops metadata. */
  | 'not-encrypted'
  /** The file is already encrypted. */
  | 'already-encrypted'
  /** The input has no document. */
  | 'no-document'
  /** A configuration file or setting is invalid. */
  | 'bad-config'
  /** An encryption context is not `key:value` pairs. */
  | 'bad-encryption-context'
  /** A master key type is repeated in the decryption order. */
  | 'duplicate-key-type'
  /** A tree path (`["key"][0]`) is malformed, as given to `--extract`. */
  | 'bad-tree-path'
  /** What `set` was given (path or value) cannot be applied. */
  | 'bad-set-argument'
  /** Master keys were to be changed in a file that does not exist. */
  | 'no-file-to-rekey'
  /** A master key could not wrap or unwrap the data key. */
  | 'key-failed'
  /** No master key could recover the data key. */
  | 'no-key'
  /** A value could not be encrypted. */
  | 'encryption-failed'
  /** A value could not be decrypted: wrong data key, tampered ciphertext or moved value. */
  | 'decryption-failed'
  /** The MAC is missing, cannot be decrypted, or does not match the values. */
  | 'mac-mismatch'
  /** An edit left the file as it was. */
  | 'unchanged'
  /** No editor could be started. */
  | 'no-editor'
  /** The command to run does not exist. */
  | 'command-not-found'
  /** The command to run exists but cannot be executed. */
  | 'command-not-executable';

export class TsopsError extends Error {
  readonly kind: ErrorKind;
  /** The file the error is about, when known; the CLI prefixes it. */
  file?: string;

  constructor(message: string, kind: ErrorKind = 'failed', options?: { cause?: unknown; file?: string }) {
    // Messages carry names from files (keys, recipients, paths): never a raw control character.
    super(escapeControl(message), options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.kind = kind;
    if (options?.file !== undefined) this.file = options.file;
  }

  /** Attach the file name if none was set yet; returns this for `throw e.inFile(p)`. */
  inFile(file: string | undefined): this {
    if (this.file === undefined && file !== undefined) this.file = file;
    return this;
  }
}

/** Runs work on one file: a TsopsError from anywhere inside names that file (if it names none yet). */
export async function aboutFile<T>(file: string | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw e instanceof TsopsError ? e.inFile(file) : e;
  }
}

/** The plaintext input could not be read or parsed. */
export class InputError extends TsopsError {
  constructor(message: string, options?: { cause?: unknown; file?: string }) {
    super(message, 'unreadable-input', options);
  }
}

/** An encrypted file is malformed (bad syntax, bad metadata). */
export class MalformedFileError extends TsopsError {
  constructor(message: string, options?: { cause?: unknown; file?: string }) {
    super(message, 'malformed-file', options);
  }
}

/** The file has no sops metadata. */
export class MetadataNotFoundError extends TsopsError {
  constructor(options?: { file?: string }) {
    super('sops metadata not found', 'not-encrypted', options);
  }
}

export class FileAlreadyEncryptedError extends TsopsError {
  constructor(options?: { file?: string }) {
    super('file already encrypted', 'already-encrypted', options);
  }
}

export class NoDocumentError extends TsopsError {
  constructor(options?: { file?: string }) {
    super('the input has no document to encrypt', 'no-document', options);
  }
}

/** A value could not be decrypted: wrong data key, tampered ciphertext or moved value. */
export class DecryptionError extends TsopsError {
  constructor(message: string, options?: { cause?: unknown; file?: string }) {
    super(message, 'decryption-failed', options);
  }
}

export class EncryptionError extends TsopsError {
  constructor(message: string, options?: { cause?: unknown; file?: string }) {
    super(message, 'encryption-failed', options);
  }
}

/** The MAC is missing, cannot be decrypted, or does not match the values. */
export class MacMismatchError extends TsopsError {
  constructor(message: string, options?: { file?: string }) {
    super(message, 'mac-mismatch', options);
  }
}

/** One master key failed to yield the data key; collected into {@link NoKeyError}. */
export interface KeyFailure {
  /** Which group (0-based) the key belongs to. */
  group: number;
  /** The key's identity: age recipient, PGP fingerprint, KMS ARN. */
  key: string;
  type: string;
  reason: string;
}

/** No master key could recover the data key. Lists every key tried and why it failed. */
export class NoKeyError extends TsopsError {
  readonly failures: KeyFailure[];
  constructor(message: string, failures: KeyFailure[], options?: { file?: string }) {
    super(message, 'no-key', options);
    this.failures = failures;
  }
}

/** A key could not wrap the data key while encrypting. */
export class KeyWrapError extends TsopsError {
  constructor(message: string, options?: { cause?: unknown; file?: string }) {
    super(message, 'key-failed', options);
  }
}

export class OutputError extends TsopsError {
  constructor(message: string, options?: { cause?: unknown; file?: string }) {
    super(message, 'unwritable-output', options);
  }
}

/** A tree cannot be written in the requested format (e.g. nested values in dotenv). */
export class EmitError extends TsopsError {
  constructor(message: string, options?: { cause?: unknown; file?: string }) {
    super(message, 'unemittable-tree', options);
  }
}

/** A mistake in how tsops was called; `conflicting-flags` unless the caller says otherwise. */
export class UsageError extends TsopsError {
  constructor(message: string, kind: ErrorKind = 'conflicting-flags') {
    super(message, kind);
  }
}

export class ConfigError extends TsopsError {
  constructor(message: string, options?: { cause?: unknown; file?: string }) {
    super(message, 'bad-config', options);
  }
}

/** One line for the user (`file: message`, never a stack trace) and the error's kind. */
export function describeError(err: unknown): { message: string; kind: ErrorKind } {
  if (err instanceof TsopsError) {
    const where = err.file ? `${err.file}: ` : '';
    return { message: escapeControl(`${where}${oneLine(err.message)}`), kind: err.kind };
  }
  const e = err as { code?: string; path?: string; message?: string };
  if (e && typeof e === 'object' && typeof e.code === 'string' && e.code.startsWith('E')) {
    const where = e.path ? `${e.path}: ` : '';
    return { message: escapeControl(`${where}${systemReason(e.code, e.message)}`), kind: 'failed' };
  }
  return { message: escapeControl(`internal error: ${oneLine(String((err as Error)?.message ?? err))}`), kind: 'failed' };
}

function systemReason(code: string, message?: string): string {
  switch (code) {
    case 'ENOENT': return 'no such file or directory';
    case 'EACCES': return 'permission denied';
    case 'EISDIR': return 'is a directory';
    case 'ENOTDIR': return 'not a directory';
    case 'EPERM': return 'operation not permitted';
    case 'EROFS': return 'read-only file system';
    case 'ENOSPC': return 'no space left on device';
    default: return oneLine(message ?? code);
  }
}

function oneLine(s: string): string {
  return joinLines(s, '; ');
}

/**
 * Text on one line: each line trimmed, blank ones dropped, joined by `sep`.
 * A split, not a regex of whitespace around a newline, which backtracks in
 * quadratic time over a long run of spaces with no newline in it.
 */
export function joinLines(s: string, sep: string): string {
  return s.split('\n').map((line) => line.trim()).filter((line) => line !== '').join(sep);
}

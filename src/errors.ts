/**
 * Errors are values with a kind. The CLI maps each kind to sops's exit code
 * and prints `tsops: <file>: <message>` on one line. Messages never contain
 * secret material: they name files, paths, key identities and reasons only.
 */

import { escapeControl } from './escape.js';

export const ExitCode = {
  Generic: 1,
  CouldNotReadInputFile: 2,
  CouldNotWriteOutputFile: 3,
  ErrorDumpingTree: 4,
  InvalidEncryptionContext: 6,
  InvalidSetFormat: 7,
  ConflictingParameters: 8,
  ErrorEncryptingMac: 21,
  ErrorEncryptingTree: 23,
  ErrorDecryptingTree: 25,
  CannotChangeKeysFromNonExistentFile: 49,
  MacMismatch: 51,
  InvalidTreePathFormat: 91,
  NeedAtLeastOneDocument: 92,
  NoFileSpecified: 100,
  DuplicateDecryptionKeyType: 112,
  CouldNotRetrieveKey: 128,
  FileHasNotBeenModified: 200,
  NoEditorFound: 201,
  FailedToCompareVersions: 202,
  FileAlreadyEncrypted: 203,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class TsopsError extends Error {
  readonly exitCode: number;
  /** The file the error is about, when known; the CLI prefixes it. */
  file?: string;

  constructor(message: string, exitCode: number = ExitCode.Generic, options?: { cause?: unknown; file?: string }) {
    // Messages carry names from files (keys, recipients, paths): never a raw control character.
    super(escapeControl(message), options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
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
    super(message, ExitCode.CouldNotReadInputFile, options);
  }
}

/** An encrypted file is malformed (bad syntax, bad metadata). */
export class MalformedFileError extends TsopsError {
  constructor(message: string, options?: { cause?: unknown; file?: string }) {
    super(message, ExitCode.Generic, options);
  }
}

/** The file has no sops metadata. */
export class MetadataNotFoundError extends TsopsError {
  constructor(options?: { file?: string }) {
    super('sops metadata not found', ExitCode.Generic, options);
  }
}

export class FileAlreadyEncryptedError extends TsopsError {
  constructor(options?: { file?: string }) {
    super('file already encrypted', ExitCode.FileAlreadyEncrypted, options);
  }
}

export class NoDocumentError extends TsopsError {
  constructor(options?: { file?: string }) {
    super('the input has no document to encrypt', ExitCode.NeedAtLeastOneDocument, options);
  }
}

/** A value could not be decrypted: wrong data key, tampered ciphertext or moved value. */
export class DecryptionError extends TsopsError {
  constructor(message: string, options?: { cause?: unknown; file?: string }) {
    super(message, ExitCode.ErrorDecryptingTree, options);
  }
}

export class EncryptionError extends TsopsError {
  constructor(message: string, options?: { cause?: unknown; file?: string }) {
    super(message, ExitCode.ErrorEncryptingTree, options);
  }
}

/** The MAC is missing, cannot be decrypted, or does not match the values. */
export class MacMismatchError extends TsopsError {
  constructor(message: string, options?: { file?: string }) {
    super(message, ExitCode.MacMismatch, options);
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
    super(message, ExitCode.CouldNotRetrieveKey, options);
    this.failures = failures;
  }
}

/** A key could not wrap the data key while encrypting. */
export class KeyWrapError extends TsopsError {
  constructor(message: string, options?: { cause?: unknown; file?: string }) {
    super(message, ExitCode.Generic, options);
  }
}

export class OutputError extends TsopsError {
  constructor(message: string, options?: { cause?: unknown; file?: string }) {
    super(message, ExitCode.CouldNotWriteOutputFile, options);
  }
}

/** A tree cannot be written in the requested format (e.g. nested values in dotenv). */
export class EmitError extends TsopsError {
  constructor(message: string, options?: { cause?: unknown; file?: string }) {
    super(message, ExitCode.ErrorDumpingTree, options);
  }
}

export class UsageError extends TsopsError {
  constructor(message: string, exitCode: number = ExitCode.ConflictingParameters) {
    super(message, exitCode);
  }
}

export class ConfigError extends TsopsError {
  constructor(message: string, options?: { cause?: unknown; file?: string }) {
    super(message, ExitCode.Generic, options);
  }
}

/** One line for the user: `tsops: file: message`. Never a stack trace. */
export function describeError(err: unknown): { message: string; exitCode: number } {
  if (err instanceof TsopsError) {
    const where = err.file ? `${err.file}: ` : '';
    return { message: escapeControl(`${where}${oneLine(err.message)}`), exitCode: err.exitCode };
  }
  const e = err as { code?: string; path?: string; message?: string };
  if (e && typeof e === 'object' && typeof e.code === 'string' && e.code.startsWith('E')) {
    const where = e.path ? `${e.path}: ` : '';
    return { message: escapeControl(`${where}${systemReason(e.code, e.message)}`), exitCode: ExitCode.Generic };
  }
  return { message: escapeControl(`internal error: ${oneLine(String((err as Error)?.message ?? err))}`), exitCode: ExitCode.Generic };
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

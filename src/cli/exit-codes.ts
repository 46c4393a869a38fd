import { describeError, type ErrorKind } from '../errors.js';

/**
 * sops's exit codes (its cmd/sops/codes package), by the names sops gives
 * them. Scripts written for sops test these numbers, so they never change.
 */
export const ExitCode = {
  Generic: 1,
  CouldNotReadInputFile: 2,
  CouldNotWriteOutputFile: 3,
  ErrorDumpingTree: 4,
  InvalidEncryptionContext: 6,
  InvalidSetFormat: 7,
  ConflictingParameters: 8,
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
  FileAlreadyEncrypted: 203,
} as const;

/** The one table from an error's kind to the exit status of the process. */
const EXIT_CODE_OF_KIND: Readonly<Record<ErrorKind, number>> = {
  'failed': ExitCode.Generic,
  'bad-usage': ExitCode.Generic,
  'conflicting-flags': ExitCode.ConflictingParameters,
  'no-file-given': ExitCode.NoFileSpecified,
  // sops reports a missing file with the same code as an absent file name.
  'file-not-found': ExitCode.NoFileSpecified,
  'unreadable-input': ExitCode.CouldNotReadInputFile,
  'unwritable-output': ExitCode.CouldNotWriteOutputFile,
  'unemittable-tree': ExitCode.ErrorDumpingTree,
  'malformed-file': ExitCode.Generic,
  'not-encrypted': ExitCode.Generic,
  'already-encrypted': ExitCode.FileAlreadyEncrypted,
  'no-document': ExitCode.NeedAtLeastOneDocument,
  'bad-config': ExitCode.Generic,
  'bad-encryption-context': ExitCode.InvalidEncryptionContext,
  'duplicate-key-type': ExitCode.DuplicateDecryptionKeyType,
  'bad-tree-path': ExitCode.InvalidTreePathFormat,
  'bad-set-argument': ExitCode.InvalidSetFormat,
  'no-file-to-rekey': ExitCode.CannotChangeKeysFromNonExistentFile,
  'key-failed': ExitCode.Generic,
  'no-key': ExitCode.CouldNotRetrieveKey,
  'encryption-failed': ExitCode.ErrorEncryptingTree,
  'decryption-failed': ExitCode.ErrorDecryptingTree,
  'mac-mismatch': ExitCode.MacMismatch,
  'unchanged': ExitCode.FileHasNotBeenModified,
  'no-editor': ExitCode.NoEditorFound,
  // A command that cannot be started exits as a shell would: scripts wrapping exec-env test these.
  'command-not-found': 127,
  'command-not-executable': 126,
};

export function exitCodeOf(kind: ErrorKind): number {
  return EXIT_CODE_OF_KIND[kind];
}

/** The exit code the CLI would use for any thrown value. */
export function exitCodeOfError(err: unknown): number {
  return exitCodeOf(describeError(err).kind);
}

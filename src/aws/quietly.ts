import { joinLines } from '../errors.js';

/**
 * Runs a client constructor with process warnings (the SDK's notice about the
 * Node version is one) sent to the verbose log instead of stderr. Constructors
 * are synchronous, so no other code can emit a warning in between.
 */
export function quietly<T>(log: ((line: string) => void) | undefined, build: () => T): T {
  const original = process.emitWarning;
  process.emitWarning = ((warning: string | Error) => {
    log?.(`aws-sdk: ${joinLines(typeof warning === 'string' ? warning : warning.message, ' ')}`);
  }) as typeof process.emitWarning;
  try {
    return build();
  } finally {
    process.emitWarning = original;
  }
}

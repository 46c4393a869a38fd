/**
 * The real sops-written samples live beside the clone, in ../shared/interop
 * (CI has them; a clone elsewhere does not). Tests that read them run only
 * when they are there (`describe.skipIf(!HAS_INTEROP)`); test/support/interop-notice.ts says once, on one line,
 * what was skipped and why. TSOPS_INTEROP_DIR points elsewhere (a missing
 * directory shows what a clone without them runs).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const INTEROP = process.env['TSOPS_INTEROP_DIR'] ? resolve(process.env['TSOPS_INTEROP_DIR']) : resolve(import.meta.dirname, '..', '..', '..', 'shared', 'interop');
export const HAS_INTEROP = existsSync(INTEROP);

export function interopPath(relative: string): string {
  return join(INTEROP, relative);
}

/** Vitest global setup: one line when the sops-written samples are absent, so a skip is never silent. */
import { HAS_INTEROP, INTEROP } from './interop.js';

export default function setup(): void {
  if (!HAS_INTEROP) process.stdout.write(`interop: skipped every test that reads real sops-written files: ${INTEROP} is not there (CI has it beside the clone)\n`);
}

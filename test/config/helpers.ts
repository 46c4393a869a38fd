import { exitCodeOfError } from '../../src/cli/exit-codes.js';
import { mkdtempSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { ConfigError } from '../../src/errors.js';

export const AGE_A = 'age1lzd99uklcjnc0e7d860axevet2cz99ce9pq6tzuzd05l5nr28ams36nvun';
export const AGE_B = 'age1tmaae3ld5vpevmsh5yacsauzx8jetg300mpvc4ugp5zr5l6ssq9sla97ep';
export const AGE_C = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
export const PGP_FP = 'FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4';
export const KMS_ARN = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';
export const ROLE_ARN = 'arn:aws:iam::123456789012:role/sops';

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURE_REPO = join(here, '../../fixtures/config-repo');
export { INTEROP } from '../support/interop.js';

/** A fresh directory (real path, so comparisons survive symlinked /tmp) with the given files. */
export function tempTree(files: Record<string, string> = {}): { root: string; cleanup: () => void } {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'tsops-config-')));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Runs `fn`, expecting a one-line ConfigError; returns its message. */
export function configErrorOf(fn: () => unknown): string {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  return checkConfigError(caught);
}

export async function asyncConfigErrorOf(fn: () => Promise<unknown>): Promise<string> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  return checkConfigError(caught);
}

function checkConfigError(caught: unknown): string {
  expect(caught, 'expected a ConfigError').toBeInstanceOf(ConfigError);
  const message = (caught as ConfigError).message;
  expect(message).not.toMatch(/\n/);
  expect(exitCodeOfError(caught as ConfigError)).toBe(1);
  return message;
}

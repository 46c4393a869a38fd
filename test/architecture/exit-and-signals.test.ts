/**
 * Two ownership rules, checked on the source text:
 * - exit codes are chosen only in src/cli/ (src/cli/exit-codes.ts maps error
 *   kinds to sops's codes): no module below it imports that table or builds an
 *   error from a number;
 * - only src/io/process-lifecycle.ts adds or removes process signal and exit
 *   listeners or re-raises a signal.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

const files = sources(SRC).map((path) => ({ name: relative(SRC, path).split('\\').join('/'), text: readFileSync(path, 'utf8') }));

it('only src/cli/ (and the library entry, which re-exports it) picks exit codes', () => {
  const outside = files.filter((f) => !f.name.startsWith('cli/') && f.name !== 'index.ts');
  expect(outside.filter((f) => /exit-codes\.js'/.test(f.text)).map((f) => f.name)).toEqual([]);
  // An error built with a number where its kind belongs: `new XError('...', 100)`.
  const numbered = outside.filter((f) => /new \w*Error\((?:`[^`]*`|'[^']*'|"[^"]*"),\s*\d+\s*[,)]/.test(f.text));
  expect(numbered.map((f) => f.name)).toEqual([]);
});

it('only src/io/process-lifecycle.ts touches process signal and exit listeners', () => {
  const touching = files.filter((f) => f.name !== 'io/process-lifecycle.ts' && /process\.(on|once|off|addListener|prependListener|removeListener|removeAllListeners)\(/.test(f.text));
  expect(touching.map((f) => f.name)).toEqual([]);
  const killingSelf = files.filter((f) => f.name !== 'io/process-lifecycle.ts' && /process\.kill\(process\.pid/.test(f.text));
  expect(killingSelf.map((f) => f.name)).toEqual([]);
});

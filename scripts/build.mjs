// Builds the CLI as one small ESM bundle (fast start-up: one file to load, formats
// and key kinds split into lazily loaded chunks) and the library with tsc (types).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });

await build({
  entryPoints: { main: 'src/cli/main.ts' },
  outdir: 'dist/cli',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  // CommonJS dependencies (commander) call require() for Node built-ins.
  banner: { js: "import { createRequire as __tsopsRequire } from 'node:module'; const require = __tsopsRequire(import.meta.url);" },
  define: { TSOPS_VERSION: JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version) },
  chunkNames: 'chunks/[name]-[hash]',
  external: ['@aws-sdk/*', '@smithy/*', '@inquirer/*'],
  logLevel: 'warning',
});

execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });

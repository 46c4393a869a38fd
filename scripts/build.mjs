// Builds the CLI as one CommonJS bundle plus a V8 code cache made by running
// it once on sample files (fast start-up: no module graph to resolve and no
// functions to compile on a normal run), and the library with tsc (types).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

// commander requires child_process at load time for executable subcommands,
// which tsops does not use; loading it costs every run a few milliseconds.
const lazyCommanderChildProcess = {
  name: 'lazy-commander-child-process',
  setup(b) {
    b.onLoad({ filter: /commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const eager = "const childProcess = require('node:child_process');";
      if (!source.includes(eager)) throw new Error(`${args.path}: commander changed; update the lazy child_process patch`);
      return { contents: source.replace(eager, "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };"), loader: 'js' };
    });
  },
};

rmSync('dist', { recursive: true, force: true });

// The YAML store uses only the CST layer of `yaml`; the config reader (loaded
// for encrypt, edit and updatekeys only) uses the whole package.
const yamlCstForTheStore = {
  name: 'yaml-cst-for-the-store',
  setup(b) {
    b.onResolve({ filter: /^yaml$/ }, (args) => (/[\\/]src[\\/]formats[\\/]yaml[\\/]/.test(args.importer) ? { path: new URL('./yaml-cst.mjs', import.meta.url).pathname } : undefined));
  },
};

await build({
  entryPoints: { tsops: 'src/cli/main.ts' },
  outdir: 'dist/cli',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // TSOPS_DEBUG_BUILD=1 keeps names readable, for CPU profiles.
  minify: !process.env.TSOPS_DEBUG_BUILD,
  legalComments: 'none',
  // Lazily loaded SDKs (and the age library, needed only for post-quantum keys) stay in node_modules and are required only when a file uses them.
  external: ['@aws-sdk/*', '@smithy/*', '@inquirer/*', 'age-encryption'],
  supported: { 'dynamic-import': false },
  // yaml's ESM build lets the bundle keep only the CST parser tsops uses.
  alias: { yaml: './node_modules/yaml/browser/index.js' },
  define: { TSOPS_VERSION: JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version) },
  plugins: [lazyCommanderChildProcess, yamlCstForTheStore],
  logLevel: 'warning',
  // src/regex/re2.ts reads import.meta.url only when not bundled (the ES module library).
  logOverride: { 'empty-import-meta': 'silent' },
});

execFileSync(process.execPath, ['scripts/code-cache.mjs'], { stdio: 'inherit' });
execFileSync(process.execPath, ['scripts/snapshot.mjs'], { stdio: 'inherit' });
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });

// Builds the CLI as one CommonJS bundle (no module graph to resolve at
// start-up; bin/tsops.cjs loads it with a V8 code cache of the user's own),
// and the library with tsc (ES modules and types).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

rmSync('dist', { recursive: true, force: true });

/** The packages each key kind's wrap/unwrap code imports on first use (its descriptor's `lazyPackages`), read from the registry. */
async function keyKindPackages() {
  const registry = await build({ entryPoints: ['src/keys/registry.ts'], bundle: true, write: false, format: 'cjs', platform: 'node', packages: 'external', logLevel: 'warning' });
  const module = { exports: {} };
  new Function('module', 'exports', 'require', registry.outputFiles[0].text)(module, module.exports, createRequire(import.meta.url));
  return module.exports.KEY_KINDS.flatMap((kind) => kind.lazyPackages ?? []);
}

await build({
  entryPoints: { tsops: 'src/cli/main.ts' },
  outdir: 'dist/cli',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  // `neutral` resolves packages through their exports maps' `default`
  // condition (and `module` entries), so `yaml` comes as ES modules the
  // bundler trims to the CST layer the store imports; Node's built-ins stay
  // outside the bundle.
  platform: 'neutral',
  mainFields: ['module', 'main'],
  target: 'node20',
  // TSOPS_DEBUG_BUILD=1 keeps names readable, for CPU profiles.
  minify: !process.env.TSOPS_DEBUG_BUILD,
  legalComments: 'none',
  // Lazily loaded packages stay in node_modules and are required only when used: the key kinds' SDKs (and the
  // age library, needed only for post-quantum keys), the S3 client of `publish`, the prompts of interactive commands,
  // the PostgreSQL client of the audit log (only with a postgres backend configured).
  external: ['node:*', '@aws-sdk/client-s3', '@inquirer/*', 'pg', ...(await keyKindPackages())],
  supported: { 'dynamic-import': false },
  define: { TSOPS_VERSION: JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version) },
  logLevel: 'warning',
  // src/regex/re2.ts reads import.meta.url only when not bundled (the ES module library).
  logOverride: { 'empty-import-meta': 'silent' },
});

// Names the code caches bin/tsops.cjs writes: a cache made for another bundle is never offered to V8.
const bundleHash = createHash('sha256').update(readFileSync('dist/cli/tsops.cjs')).digest('hex').slice(0, 16);
writeFileSync('dist/cli/tsops.hash', `${bundleHash}\n`);

execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });

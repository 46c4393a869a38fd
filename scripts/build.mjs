// Builds the CLI as CommonJS bundles (no module graph to resolve at start-up;
// bin/tsops.cjs loads each with a V8 code cache of the user's own), and the
// library with tsc (ES modules and types).
//
// The CLI is a core bundle plus one file per large library that the
// commonest commands do not need (the option parser, the YAML document layer,
// the RE2 engine): V8 parses, compiles and caches only the files a command
// loads, and each file has its own code cache entry.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const CHUNKS = ['commander', 'yaml', 're2js'];

/**
 * Most of the code that imports `yaml` needs its CST layer (the YAML store)
 * or a type test (`isMap`), not the document layer (`parseDocument`, about a
 * third of the package), which only the config reader and `krm` use. So the
 * files that import `parseDocument`, or import `yaml` in any form but a list
 * of names, get the whole package; the others share a chunk of just the
 * names they import, and a decrypt never parses the document layer. (Node type tests work across the two: yaml marks nodes
 * with global symbols.)
 */
function yamlImports() {
  const light = new Set();
  const whole = new Set();
  for (const entry of readdirSync('src', { recursive: true })) {
    const file = join('src', String(entry));
    if (!file.endsWith('.ts')) continue;
    const text = readFileSync(file, 'utf8');
    const statement = /^import\s+(type\s+)?\{([^}]*)\}\s+from\s+'yaml';$/gm;
    const references = text.match(/from\s+'yaml'|import\(\s*'yaml'\s*\)|require\(\s*'yaml'\s*\)/g) ?? [];
    if (references.length === 0) continue;
    const names = [...text.matchAll(statement)].filter((m) => !m[1]).flatMap((m) => m[2].split(',').map((n) => n.trim()).filter((n) => n && !n.startsWith('type ')));
    // Any other form of import (a namespace, a dynamic import) gets the whole package too.
    const listed = references.length === (text.match(statement) ?? []).length;
    if (!listed || names.includes('parseDocument')) whole.add(resolve(file));
    else for (const name of names) light.add(name);
  }
  return { light: [...light].sort(), whole };
}
const YAML_IMPORTS = yamlImports();

rmSync('dist', { recursive: true, force: true });

/** The packages each key kind's wrap/unwrap code imports on first use (its descriptor's `lazyPackages`), read from the registry. */
async function keyKindPackages() {
  const registry = await build({ entryPoints: ['src/keys/registry.ts'], bundle: true, write: false, format: 'cjs', platform: 'node', packages: 'external', logLevel: 'warning' });
  const module = { exports: {} };
  new Function('module', 'exports', 'require', registry.outputFiles[0].text)(module, module.exports, createRequire(import.meta.url));
  return module.exports.KEY_KINDS.flatMap((kind) => kind.lazyPackages ?? []);
}

const common = {
  bundle: true,
  format: 'cjs',
  // `neutral` resolves packages through their exports maps' `default`
  // condition (and `module` entries), so `yaml` comes as ES modules; Node's
  // built-ins stay outside the bundles.
  platform: 'neutral',
  mainFields: ['module', 'main'],
  target: 'node20',
  // TSOPS_DEBUG_BUILD=1 keeps names readable, for CPU profiles.
  minify: !process.env.TSOPS_DEBUG_BUILD,
  // Non-ASCII is escaped, so bin/tsops.cjs can read the files as Latin-1 (no UTF-8 decoding at start-up).
  charset: 'ascii',
  legalComments: 'none',
  supported: { 'dynamic-import': false },
  logLevel: 'warning',
};

/** Imports of the chunked libraries become requires of their files next to the core bundle. */
const chunkRequires = {
  name: 'chunk-requires',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${CHUNKS.join('|')})$`) }, (args) => {
      const light = args.path === 'yaml' && !YAML_IMPORTS.whole.has(resolve(args.importer));
      return { path: `./chunks/${light ? 'yaml-light' : args.path}.cjs`, external: true };
    });
  },
};

await build({
  ...common,
  entryPoints: { tsops: 'src/cli/main.ts' },
  outdir: 'dist/cli',
  outExtension: { '.js': '.cjs' },
  // Lazily loaded packages stay in node_modules and are required only when used: the key kinds' SDKs (and the
  // age library, needed only for post-quantum keys), the S3 client of `publish`, the prompts of interactive commands,
  // the PostgreSQL client of the audit log (only with a postgres backend configured), the secret scanner's rules
  // (`guard` and `scan`, only when there are files to scan).
  external: ['node:*', '@aws-sdk/client-s3', '@inquirer/*', 'pg', '@secretlint/*', ...(await keyKindPackages())],
  plugins: [chunkRequires],
  define: { TSOPS_VERSION: JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version) },
  // src/regex/re2.ts reads import.meta.url only when not bundled (the ES module library).
  logOverride: { 'empty-import-meta': 'silent' },
});

const chunkSources = { ...Object.fromEntries(CHUNKS.map((name) => [name, `export * from ${JSON.stringify(name)};`])), 'yaml-light': `export { ${YAML_IMPORTS.light.join(', ')} } from 'yaml';` };
for (const [name, contents] of Object.entries(chunkSources)) {
  await build({
    ...common,
    stdin: { contents, resolveDir: '.', loader: 'js' },
    outfile: `dist/cli/chunks/${name}.cjs`,
    external: ['node:*'],
  });
}

// Names the code caches bin/tsops.cjs writes: a cache made for other files is never offered to V8.
const hash = createHash('sha256');
for (const file of ['tsops.cjs', ...readdirSync('dist/cli/chunks').sort().map((f) => join('chunks', f))]) {
  const bytes = readFileSync(join('dist/cli', file));
  if (bytes.some((b) => b > 0x7f)) throw new Error(`dist/cli/${file} is not ASCII`);
  hash.update(`${file}\0${bytes.length}\0`).update(bytes);
}
writeFileSync('dist/cli/tsops.hash', `${hash.digest('hex').slice(0, 16)}\n`);

execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });

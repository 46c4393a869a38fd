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
import { join, relative, resolve } from 'node:path';

const CHUNKS = ['commander', 'yaml', 're2js'];

/**
 * The YAML store reads with the `yaml` package's CST layer only, about two
 * thirds of the package: it gets a chunk of just the names it imports, so a
 * decrypt never parses the document layer that configs need.
 */
const STORE_DIR = join('src', 'formats');
function storeYamlImports() {
  const names = new Set();
  for (const entry of readdirSync(STORE_DIR, { recursive: true })) {
    if (!String(entry).endsWith('.ts')) continue;
    const text = readFileSync(join(STORE_DIR, String(entry)), 'utf8');
    for (const m of text.matchAll(/^import\s+(type\s+)?\{([^}]*)\}\s+from\s+'yaml';$/gm)) {
      if (m[1]) continue;
      for (const name of m[2].split(',').map((n) => n.trim())) if (name && !name.startsWith('type ')) names.add(name);
    }
    // Any other form of import would slip past the list above.
    const imports = text.match(/from\s+'yaml'|import\(\s*'yaml'\s*\)|require\(\s*'yaml'\s*\)/g) ?? [];
    const understood = text.match(/^import\s+(type\s+)?\{[^}]*\}\s+from\s+'yaml';$/gm) ?? [];
    if (imports.length !== understood.length) throw new Error(`${join(STORE_DIR, String(entry))}: import yaml as \`import { A, B } from 'yaml';\` (the build lists the names for its chunk)`);
  }
  return [...names].sort();
}

rmSync('dist', { recursive: true, force: true });

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
      const store = args.path === 'yaml' && !relative(resolve(STORE_DIR), args.importer).startsWith('..');
      return { path: `./chunks/${store ? 'yaml-store' : args.path}.cjs`, external: true };
    });
  },
};

await build({
  ...common,
  entryPoints: { tsops: 'src/cli/main.ts' },
  outdir: 'dist/cli',
  outExtension: { '.js': '.cjs' },
  // Lazily loaded SDKs (and the age library, needed only for post-quantum keys) stay in node_modules and are required only when a file uses them.
  external: ['node:*', '@aws-sdk/*', '@smithy/*', '@inquirer/*', 'age-encryption'],
  plugins: [chunkRequires],
  define: { TSOPS_VERSION: JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version) },
  // src/regex/re2.ts reads import.meta.url only when not bundled (the ES module library).
  logOverride: { 'empty-import-meta': 'silent' },
});

const chunkSources = { ...Object.fromEntries(CHUNKS.map((name) => [name, `export * from ${JSON.stringify(name)};`])), 'yaml-store': `export { ${storeYamlImports().join(', ')} } from 'yaml';` };
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

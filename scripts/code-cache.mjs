// Runs the freshly built CLI in-process on throwaway sample files, then saves
// V8's code cache for it. bin/tsops.cjs hands the cache back to V8, which skips
// parsing and compiling; V8 ignores a cache made by another Node version.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import vm from 'node:vm';

const require = createRequire(import.meta.url);
const { prepareSamples, decryptSamples } = require('./warm-up.cjs');

// The same wrapper bin/tsops.cjs uses, so V8 accepts the cache there.
const bundle = new URL('../dist/cli/tsops.cjs', import.meta.url).pathname;
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, 'utf8')}\n})`, { filename: bundle });
const mod = { exports: {} };
script.runInThisContext()(mod.exports, createRequire(bundle), mod, bundle, join(bundle, '..'));
const dir = await prepareSamples(mod.exports.main);
try {
  await decryptSamples(mod.exports.main, dir, { rounds: 3, extract: true });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
writeFileSync(join(bundle, '..', 'tsops.cache'), script.createCachedData());

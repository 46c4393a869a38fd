// Runs the freshly built CLI in-process on throwaway sample files, then saves
// V8's code cache for it. bin/tsops.cjs hands the cache back to V8, which skips
// parsing and compiling; V8 ignores a cache made by another Node version.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { readFileSync as readBundle, writeFileSync as writeCache } from 'node:fs';
import { createRequire } from 'node:module';
import vm from 'node:vm';

const dir = mkdtempSync(join(tmpdir(), 'tsops-cache-'));
const sink = () => new Writable({ write: (_c, _e, cb) => cb() });
try {
  // The same wrapper bin/tsops.cjs uses, so V8 accepts the cache there.
  const bundle = new URL('../dist/cli/tsops.cjs', import.meta.url).pathname;
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${readBundle(bundle, 'utf8')}\n})`, { filename: bundle });
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, createRequire(bundle), mod, bundle, join(bundle, '..'));
  const { main } = mod.exports;
  const saveCache = () => writeCache(join(bundle, '..', 'tsops.cache'), script.createCachedData());
  const env = { HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), PATH: process.env.PATH };
  const ctx = { cwd: dir, env, stdout: sink(), stderr: sink(), stdinIsTTY: false };
  const keys = join(dir, 'keys.txt');
  await main(['keygen', '--output', keys], ctx);
  env.SOPS_AGE_KEY_FILE = keys;
  const { readFileSync } = await import('node:fs');
  const recipient = readFileSync(keys, 'utf8').match(/public key: (\S+)/)[1];
  const samples = {
    'a.yaml': '# c\na:\n  b: 1\n  c: [x, "y"]\n  d: |\n    text\nlist:\n  - k: v\n',
    'a.json': '{"a": {"b": 1.5, "c": [true, null]}}\n',
    'a.env': '# c\nA=1\nB="two"\n',
    'a.ini': '[s]\nk = v\n',
  };
  for (const [name, text] of Object.entries(samples)) {
    const plain = join(dir, name);
    const enc = join(dir, `enc.${name}`);
    writeFileSync(plain, text);
    await main(['encrypt', '--age', recipient, '--output', enc, plain], ctx);
    await main(['decrypt', enc], ctx);
    await main(['decrypt', '--extract', '["a"]', enc], ctx);
  }
  process.exitCode = 0;
  saveCache();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// Builds V8 start-up snapshots of the CLI for the Node that runs this script:
// the bundle loaded, its modules initialised and its hot paths compiled by a
// warm-up run, so `tsops decrypt` starts almost as fast as `node -e 0`. Two
// of them, because every object in a snapshot costs start-up time: one warmed
// on the read path, one warmed on exec-env's path, which holds child_process
// (bin/tsops picks it for exec-env, run and exec-file). bin/tsops uses them
// only with the Node binary that built them (same path, same modification
// time, read off a reference file with the shell's own -nt/-ot tests);
// otherwise it runs bin/tsops.cjs. Failing here is not fatal: the CLI works
// without a snapshot, only slower to start.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

const dist = fileURLToPath(new URL('../dist/cli/', import.meta.url));
const bundlePath = join(dist, 'tsops.cjs');
const entry = join(dist, 'snapshot-entry.cjs');
const stamp = join(dist, 'tsops.snapshot-node');
const nodeTime = join(dist, 'tsops.node-mtime');
// Encrypted YAML is plain block YAML (sops writes it so): the full YAML reader compiles on demand.
const READ_PATH = "await decryptSamples(cli.exports.main, dir, { names: ['b.yaml', 'a.json', 'a.env', 'a.ini'] });";
const BLOBS = {
  'tsops.blob': READ_PATH,
  // exec-env's own path only: the decrypt command and the other formats would add objects it never uses.
  'tsops-exec.blob': 'await execSample(cli.exports.main, dir);',
};
const outputs = [stamp, nodeTime, ...Object.keys(BLOBS).map((name) => join(dist, name))];

// In a source checkout before `npm run build` (which calls this again) there is nothing to snapshot yet.
if (existsSync(bundlePath)) {
  try {
    await buildSnapshots();
  } catch (e) {
    for (const f of outputs) rmSync(f, { force: true });
    process.stderr.write(`tsops: no start-up snapshot (${String(e.stderr ?? e.message).trim().split('\n')[0]}); the CLI starts without one\n`);
  }
}

function entryScript(bundle, warmUpModule, warmUp) {
  return `'use strict';
const builtinRequire = require;
const { dirname, join, resolve } = builtinRequire('node:path');
// The builder can load built-in modules only; after start-up, packages (the
// age library, the AWS SDK, prompts) load from beside the blob.
let packageRequire;
function bundleRequire(id) {
  if (id.startsWith('node:')) return builtinRequire(id);
  packageRequire ??= builtinRequire('node:module').createRequire(join(blobDir(), 'tsops.cjs'));
  return packageRequire(id);
}
const cli = { exports: {} };
(function (exports, require, module) {
${bundle}
})(cli.exports, bundleRequire, cli);
const { decryptSamples, execSample } = (function (module) {
${warmUpModule}
  return module.exports;
})({ exports: {} });
function blobDir() {
  const args = process.execArgv;
  const at = args.indexOf('--snapshot-blob');
  const path = at >= 0 ? args[at + 1] : args.find((a) => a.startsWith('--snapshot-blob=')).slice('--snapshot-blob='.length);
  return dirname(resolve(path));
}
builtinRequire('node:v8').startupSnapshot.setDeserializeMainFunction(() => {
  cli.exports.main(process.argv.slice(1));
});
(async () => {
  const dir = process.env.TSOPS_WARM_UP_DIR;
  ${warmUp}
})();
`;
}

async function buildSnapshots() {
  for (const f of outputs) rmSync(f, { force: true });
  const bundle = readFileSync(bundlePath, 'utf8');
  const warmUpModule = readFileSync(new URL('./warm-up.cjs', import.meta.url), 'utf8');
  // The samples are encrypted here, not in the builder, so encryption code stays out of the snapshots.
  const samples = await require('./warm-up.cjs').prepareSamples(require(bundlePath).main);
  try {
    for (const [name, warmUp] of Object.entries(BLOBS)) {
      writeFileSync(entry, entryScript(bundle, warmUpModule, warmUp));
      execFileSync(process.execPath, ['--snapshot-blob', join(dist, name), '--build-snapshot', entry], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { PATH: process.env.PATH ?? '', TSOPS_WARM_UP_DIR: samples },
      });
    }
    const node = statSync(process.execPath);
    writeFileSync(nodeTime, '');
    utimesSync(nodeTime, node.atime, node.mtime);
    writeFileSync(stamp, `${process.execPath}\n`);
  } finally {
    rmSync(entry, { force: true });
    rmSync(samples, { recursive: true, force: true });
  }
}

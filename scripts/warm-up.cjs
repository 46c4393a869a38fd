'use strict';
// Runs the CLI in-process on throwaway files in every format, so V8 has
// compiled what a normal run needs (for the code cache and the start-up
// snapshot). It reads nothing of the user's (own HOME, own keys). CommonJS
// with built-in modules only: the snapshot builder can load nothing else.

const SAMPLES = {
  // Flow style and comments: the full YAML reader.
  'a.yaml': '# c\na:\n  b: 1\n  c: [x, "y"]\n  d: |\n    text\nlist:\n  - k: v\n',
  // Plain block YAML, as sops writes it: the line scanner.
  'b.yaml': 'a:\n  b: 1\n  c: "y"\nlist:\n  - k: v\n  - x\n',
  // Flat, as exec-env wants it.
  'c.yaml': 'A: 1\nB: two\n',
  'a.json': '{"a": {"b": 1.5, "c": [true, null]}}\n',
  'a.env': '# c\nA=1\nB="two"\n',
  'a.ini': '[s]\nk = v\n',
};

function quietContext(dir) {
  const { join } = require('node:path');
  const { Writable } = require('node:stream');
  const sink = () => new Writable({ write: (_c, _e, cb) => cb() });
  const env = { HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), PATH: process.env.PATH, SOPS_AGE_KEY_FILE: join(dir, 'keys.txt') };
  return { cwd: dir, env, stdout: sink(), stderr: sink(), stdinIsTTY: false };
}

/** A temp dir with a throwaway key and every sample encrypted (`enc.<name>`); the caller removes it. */
async function prepareSamples(main) {
  const { mkdtempSync, readFileSync, writeFileSync } = require('node:fs');
  const { tmpdir } = require('node:os');
  const { join } = require('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'tsops-warm-up-'));
  const ctx = quietContext(dir);
  await main(['keygen', '--output', ctx.env.SOPS_AGE_KEY_FILE], ctx);
  const recipient = readFileSync(ctx.env.SOPS_AGE_KEY_FILE, 'utf8').match(/public key: (\S+)/)[1];
  for (const [name, text] of Object.entries(SAMPLES)) {
    writeFileSync(join(dir, name), text);
    await main(['encrypt', '--age', recipient, '--output', join(dir, `enc.${name}`), join(dir, name)], ctx);
  }
  return dir;
}

/**
 * The read path every start-up-sensitive command takes (decrypt, exec-env's
 * decryption). `rounds` and `extract` add more compiled code: good for a code
 * cache, costly in a snapshot, whose every object is loaded at each start.
 */
async function decryptSamples(main, dir, { rounds = 1, extract = false, names = Object.keys(SAMPLES) } = {}) {
  const { join } = require('node:path');
  const ctx = quietContext(dir);
  for (const name of names) {
    const enc = join(dir, `enc.${name}`);
    for (let i = 0; i < rounds; i++) await main(['decrypt', enc], ctx);
    if (extract) await main(['decrypt', '--extract', '["a"]', enc], ctx);
  }
  process.exitCode = 0;
}

/** exec-env's path to the end, for .env and YAML: the child (`true`) started and waited for, which loads child_process. */
async function execSample(main, dir) {
  const { join } = require('node:path');
  for (const name of ['enc.a.env', 'enc.c.yaml']) await main(['exec-env', join(dir, name), '--', 'true'], quietContext(dir));
  process.exitCode = 0;
}

module.exports = { prepareSamples, decryptSamples, execSample };

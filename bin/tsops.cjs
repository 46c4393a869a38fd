#!/usr/bin/env node
'use strict';
// The `tsops` command. CommonJS on purpose: it starts faster than an ES
// module entry point. It runs the one-file bundle with a V8 code cache kept in
// the user's cache directory, so V8 skips parsing and compiling on every run
// after the first. The cache is written lazily and atomically, named after the
// Node version and the bundle's hash (an upgrade of either writes a new one),
// and is only an optimisation: a missing, read-only or foreign cache
// directory costs start-up time, nothing else.
const fs = require('node:fs');
const path = require('node:path');
const nodeModule = require('node:module');

const dist = path.join(__dirname, '..', 'dist', 'cli');
const bundlePath = path.join(dist, 'tsops.cjs');

/** $XDG_CACHE_HOME/tsops, ~/Library/Caches/tsops on macOS, %LOCALAPPDATA%\tsops\cache on Windows. */
function cacheRoot() {
  const env = process.env;
  if (env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)) return path.join(env.XDG_CACHE_HOME, 'tsops');
  if (process.platform === 'win32') return env.LOCALAPPDATA ? path.join(env.LOCALAPPDATA, 'tsops', 'cache') : undefined;
  const home = require('node:os').homedir();
  if (!home) return undefined;
  return process.platform === 'darwin' ? path.join(home, 'Library', 'Caches', 'tsops') : path.join(home, '.cache', 'tsops');
}

/**
 * Compiled code is code: a cache directory (or file) that another user owns
 * or can write could hand V8 someone else's bytecode, so it is not used.
 * Windows has no such uid/mode check; there the directory lives in the
 * user's own profile.
 */
function privateToUser(stat) {
  if (typeof process.getuid !== 'function') return true;
  return stat.uid === process.getuid() && (stat.mode & 0o022) === 0;
}

function cacheDirectory() {
  const dir = cacheRoot();
  if (!dir) return undefined;
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return privateToUser(fs.statSync(dir)) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** The build's hash of all the CLI's files, read once. */
let buildHash;
function builtHash() {
  if (buildHash === undefined) {
    try {
      buildHash = fs.readFileSync(path.join(dist, 'tsops.hash'), 'latin1').trim();
    } catch {
      buildHash = '';
    }
  }
  return buildHash;
}

/**
 * The build's hash, plus the size and modification time of the file as it is
 * now: V8 checks only a source's length, so a file patched in place after the
 * build (a hand-applied fix) must not meet its old cache.
 */
function fileId(file) {
  try {
    const built = builtHash();
    const now = fs.statSync(file);
    return built ? `${built}-${now.size}-${Math.trunc(now.mtimeMs)}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A cache holds the functions that ran when it was made, so each of the
 * commands that are run often keeps its own: a cache made by `exec-env` would
 * leave most of `decrypt` to be compiled on every run. The list is only a
 * cache key; any other command shares one cache.
 */
const CACHED_COMMANDS = ['decrypt', 'encrypt', 'edit', 'set', 'unset', 'rotate', 'exec-env', 'exec-file', 'run', 'git', 'merge-driver', 'updatekeys', 'status', 'filestatus', 'groups'];
function commandLabel() {
  const first = process.argv[2];
  if (first === '-d' || first === '--decrypt') return 'decrypt';
  if (first === '-e' || first === '--encrypt') return 'encrypt';
  return CACHED_COMMANDS.includes(first) ? first : 'cli';
}

/**
 * Writes the cache without following a link: the directory is checked again
 * (it may have been swapped since start-up by whoever owns its parent), the
 * temp file is created exclusively (O_EXCL fails on anything already there,
 * links included) and renamed over the cache in the same directory.
 */
function writeCache(dir, cacheFile, data) {
  const stat = fs.lstatSync(dir);
  if (!stat.isDirectory() || !privateToUser(stat)) return;
  const temp = `${cacheFile}.${process.pid}.${Date.now()}.tmp`;
  let fd;
  try {
    fd = fs.openSync(temp, 'wx', 0o600);
    fs.writeSync(fd, data);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(temp, cacheFile);
  } catch {
    if (fd !== undefined) fs.closeSync(fd);
    try {
      fs.rmSync(temp, { force: true });
    } catch {
      // nothing more to do: the next run tries again
    }
  }
}

/** Node 22.1+ keeps a compile cache of its own, keyed and checked by Node, one entry per file. */
function loadWithNodeCompileCache(dir) {
  nodeModule.enableCompileCache(dir);
  return require(bundlePath);
}

/** Caches to write when the process exits, after the command ran: the functions it used are compiled by then and go into them too. */
const toWrite = [];
function writeCachesOnExit() {
  for (const { dir, cacheFile, script } of toWrite.splice(0)) {
    try {
      writeCache(dir, cacheFile, script.createCachedData());
    } catch {
      // an optimisation only: the next run tries again
    }
  }
}

/**
 * Older Node: each file of the CLI runs as a vm.Script with cached data that
 * this process writes back once. The files are ASCII (the build checks), so
 * Latin-1 reads them without UTF-8 decoding.
 */
function runCached(dir, file, label) {
  const vm = require('node:vm');
  const id = dir && fileId(file);
  const cacheFile = id ? path.join(dir, `tsops-${process.version}-${process.arch}-${label}-${path.basename(file, '.cjs')}-${id}.cache`) : undefined;
  let cachedData;
  if (cacheFile) {
    try {
      const fd = fs.openSync(cacheFile, 'r');
      try {
        if (privateToUser(fs.fstatSync(fd))) cachedData = fs.readFileSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      // no cache yet
    }
  }
  const source = fs.readFileSync(file, 'latin1');
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  if (cacheFile && (!cachedData || script.cachedDataRejected)) {
    if (toWrite.length === 0) process.once('exit', writeCachesOnExit);
    toWrite.push({ dir, cacheFile, script });
  }
  const loaded = { exports: {} };
  const fileRequire = nodeModule.createRequire(file);
  // The core bundle requires its chunks as ./chunks/NAME.cjs: those load the same way, each with its own cache.
  const requireChunk = (request) => (request.startsWith('./chunks/') ? chunk(dir, path.join(dist, 'chunks', path.basename(request)), label) : fileRequire(request));
  script.runInThisContext()(loaded.exports, requireChunk, loaded, file, path.dirname(file));
  return loaded.exports;
}

const chunks = new Map();
function chunk(dir, file, label) {
  if (!chunks.has(file)) chunks.set(file, runCached(dir, file, label));
  return chunks.get(file);
}

const dir = process.env.TSOPS_NO_CODE_CACHE ? undefined : cacheDirectory();
const cli = typeof nodeModule.enableCompileCache === 'function' && dir ? loadWithNodeCompileCache(dir) : runCached(dir, bundlePath, commandLabel());
cli.main(process.argv.slice(2));

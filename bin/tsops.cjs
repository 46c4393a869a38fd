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

/**
 * The build's hash of the bundle, plus the size and modification time of the
 * bundle as it is now: V8 checks only a source's length, so a bundle patched
 * in place after the build (a hand-applied fix) must not meet its old cache.
 */
function bundleId() {
  try {
    const built = fs.readFileSync(path.join(dist, 'tsops.hash'), 'latin1').trim();
    const now = fs.statSync(bundlePath);
    return `${built}-${now.size}-${Math.trunc(now.mtimeMs)}`;
  } catch {
    return undefined;
  }
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

/** Node 22.1+ keeps a compile cache of its own, keyed and checked by Node. */
function loadWithNodeCompileCache(dir) {
  nodeModule.enableCompileCache(dir);
  return require(bundlePath);
}

/** Older Node: the bundle runs as a vm.Script with cached data that this process writes back once. */
function loadWithCodeCache(dir) {
  const vm = require('node:vm');
  const id = bundleId();
  const cacheFile = dir && id ? path.join(dir, `tsops-${process.version}-${process.arch}-${id}.cache`) : undefined;
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
  const source = fs.readFileSync(bundlePath, 'utf8');
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundlePath, cachedData });
  if (cacheFile && (!cachedData || script.cachedDataRejected)) {
    // After the command ran, the functions it used are compiled and go into the cache too.
    process.once('exit', () => {
      try {
        writeCache(dir, cacheFile, script.createCachedData());
      } catch {
        // an optimisation only: the next run tries again
      }
    });
  }
  const bundle = { exports: {} };
  script.runInThisContext()(bundle.exports, nodeModule.createRequire(bundlePath), bundle, bundlePath, dist);
  return bundle.exports;
}

const dir = process.env.TSOPS_NO_CODE_CACHE ? undefined : cacheDirectory();
const cli = typeof nodeModule.enableCompileCache === 'function' && dir ? loadWithNodeCompileCache(dir) : loadWithCodeCache(dir);
cli.main(process.argv.slice(2));

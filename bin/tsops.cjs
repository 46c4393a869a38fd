#!/usr/bin/env node
'use strict';
// CommonJS on purpose: it starts faster than an ES module entry point.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const vm = require('node:vm');

const dist = join(__dirname, '..', 'dist', 'cli');
const bundle = join(dist, 'tsops.cjs');
let cachedData;
try {
  cachedData = readFileSync(join(dist, 'tsops.cache'));
} catch {
  // no code cache: V8 compiles as usual
}
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, 'utf8')}\n})`, { filename: bundle, cachedData });
const module_ = { exports: {} };
script.runInThisContext()(module_.exports, require('node:module').createRequire(bundle), module_, bundle, dist);
module_.exports.main(process.argv.slice(2));

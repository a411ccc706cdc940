// Builds the native addon (binding.gyp beside this file) at `npm install` / `npm ci`.
//
// It never fails the install: threading, queue, futures and Pool need no native code, so where the
// addon cannot be built (not Linux, no compiler, no Node headers) this prints why and exits 0, and
// `threadkit/multiprocessing`'s shared objects then throw an Error that says so.
//
// It never downloads anything: node-gyp gets `--nodedir` pointing at the headers that ship with this
// Node (`<prefix>/include/node`), or at npm's `nodedir` setting.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const here = __dirname;

function skip(why) {
  process.stderr.write(`threadkit: the native addon was not built (${why}); threadkit/multiprocessing's shared objects will be unavailable\n`);
  process.exit(0);
}

function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  ];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed locally
  }
  return candidates.find((p) => p && fs.existsSync(p));
}

function nodeDir() {
  const candidates = [process.env.npm_config_nodedir, path.resolve(path.dirname(process.execPath), '..')];
  return candidates.find((dir) => dir && fs.existsSync(path.join(dir, 'include', 'node', 'common.gypi')));
}

if (process.platform !== 'linux') skip(`the shared memory needs Linux, this is ${process.platform}`);
const gyp = nodeGyp();
if (gyp === undefined) skip('node-gyp was not found');
const nodedir = nodeDir();
if (nodedir === undefined) skip(`no Node headers next to ${process.execPath}`);
const result = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`], { cwd: here, stdio: ['ignore', 'ignore', 'inherit'] });
if (result.error !== undefined) skip(result.error.message);
if (result.status !== 0) skip(`node-gyp exited with ${result.status ?? result.signal}`);

// Makes the native addon (binding.gyp beside this file) available at `npm install` / `npm ci`.
//
// First choice, a prebuilt addon: the packed package carries one in prebuilds/<platform>-<arch>/
// (made by prebuild.js at `npm pack`), named as node-gyp-build looks for it. If it loads in this Node
// (a separate process tries it: same platform, architecture, libc and Node ABI), nothing is compiled.
// A user's install may not run this script at all (npm 11 runs a dependency's install script only
// once the user approves it; `--ignore-scripts`): node-gyp-build then finds the prebuild by itself.
//
// Otherwise it compiles the addon with node-gyp. It never fails the install: threading, queue,
// futures and Pool need no native code, so where the addon cannot be built (not Linux, no compiler,
// no Node headers) this prints why and exits 0, and `threadkit/multiprocessing`'s shared objects
// then throw an Error that says so.
//
// It never downloads anything: node-gyp gets `--nodedir` pointing at the headers that ship with this
// Node (`<prefix>/include/node`), or at npm's `nodedir` setting.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const here = __dirname;

/** The path of a prebuilt addon that loads in this Node (never the build/ one), or undefined. */
function loadablePrebuild() {
  let loader;
  try {
    loader = require.resolve('node-gyp-build', { paths: [here] });
  } catch {
    return undefined;
  }
  // PREBUILDS_ONLY: node-gyp-build skips build/Release; a child process, so that a prebuild that
  // cannot load (another libc version, a missing symbol) costs nothing here.
  const probe = `const file = require(${JSON.stringify(loader)}).path(${JSON.stringify(here)});\n` +
    // The newest function of the addon: an older prebuild lacks it.
    "if (typeof require(file).discard !== 'function') throw new Error('an older addon');\n" +
    'process.stdout.write(file);\n';
  const result = spawnSync(process.execPath, ['-e', probe], { env: { ...process.env, PREBUILDS_ONLY: '1' }, encoding: 'utf8' });
  return result.status === 0 && result.stdout !== '' ? result.stdout : undefined;
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

/**
 * Compiles the addon into build/Release with node-gyp.
 * @returns undefined when it was built, else why not
 */
function compile() {
  if (process.platform !== 'linux') return `the shared memory needs Linux, this is ${process.platform}`;
  const gyp = nodeGyp();
  if (gyp === undefined) return 'node-gyp was not found';
  const nodedir = nodeDir();
  if (nodedir === undefined) return `no Node headers next to ${process.execPath}`;
  const result = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`], { cwd: here, stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.error !== undefined) return result.error.message;
  if (result.status !== 0) return `node-gyp exited with ${result.status ?? result.signal}`;
  return undefined;
}

function main() {
  const prebuild = loadablePrebuild();
  if (prebuild !== undefined) {
    process.stderr.write(`threadkit: using the prebuilt native addon ${path.relative(here, prebuild)}\n`);
    return;
  }
  const why = compile();
  if (why !== undefined) {
    process.stderr.write(`threadkit: the native addon was not built (${why}); threadkit/multiprocessing's shared objects will be unavailable\n`);
  }
}

if (require.main === module) main();

module.exports = { compile };

// Run by `prepack`: compiles the addon from these sources and puts it where node-gyp-build looks for a
// prebuilt one, so that the packed package works where its install script does not run (npm 11 runs
// a dependency's install script only once the user approves it; `--ignore-scripts`).
//
//   prebuilds/<platform>-<arch>/node.abi<ABI>.<libc>.node
//
// node-gyp-build's naming: the directory is the platform and architecture; the file's dot-separated
// tags say the runtime (`node`), the Node ABI (`abi115` is Node 20: the addon uses V8's C++ API, not
// N-API, so it loads only in a Node of the same ABI) and the C library (`glibc`, or `musl` where
// node-gyp-build sees Alpine). A Node with another ABI, platform or libc does not match it: there
// install.js compiles the addon (when install scripts run).
//
// `--clean` (postpack) removes prebuilds/ again, so that a checkout never keeps a stale one.
// Packing on Linux fails when the addon cannot be compiled: the package would lack its prebuild.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { compile } = require('./install');

const here = __dirname;
const prebuilds = path.join(here, 'prebuilds');

fs.rmSync(prebuilds, { recursive: true, force: true });
if (process.argv.includes('--clean')) process.exit(0);
if (process.platform !== 'linux') {
  process.stderr.write(`threadkit: no prebuilt addon in this package (the addon needs Linux, this is ${process.platform})\n`);
  process.exit(0);
}
const why = compile();
if (why !== undefined) {
  process.stderr.write(`threadkit: cannot make the prebuilt native addon: ${why}\n`);
  process.exit(1);
}
// The same rule as node-gyp-build's, so that the loader finds what this names.
const libc = process.env.LIBC || (fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc');
const dir = path.join(prebuilds, `${process.platform}-${process.arch}`);
const file = path.join(dir, `node.abi${process.versions.modules}.${libc}.node`);
fs.mkdirSync(dir, { recursive: true });
fs.copyFileSync(path.join(here, 'build', 'Release', 'threadkit_shm.node'), file);
process.stderr.write(`threadkit: prebuilt native addon ${path.relative(path.dirname(here), file)}\n`);

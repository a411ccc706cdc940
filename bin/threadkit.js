#!/usr/bin/env node
// The `threadkit` command (`npx threadkit worker …`, see `threadkit --help`): the built CLI of an
// installed package, or, in a checkout that was not built, the TypeScript sources through tsx.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const built = path.join(__dirname, '..', 'dist', 'distributed', 'cli.js');
let cli;
if (fs.existsSync(built)) {
  cli = require(built);
} else {
  require('tsx/cjs');
  cli = require('../lib/distributed/cli.ts');
}
cli.run(process.argv.slice(2));

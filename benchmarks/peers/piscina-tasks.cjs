// Runs inside a piscina (or tinypool) worker thread: the raw-peer side of the main benchmark.
// Loads the same TypeScript task module as every other strategy (through tsx's require hook,
// as threadkit's own workers do) and runs one `{ name, arg }` task per call.
'use strict';
require('tsx/cjs');
const { run } = require('../workloads/tasks.ts');

module.exports = ({ name, arg }) => run(name, arg);

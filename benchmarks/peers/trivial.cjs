// Runs inside a piscina or tinypool worker thread: the trivial task of the executor micro benchmarks.
'use strict';
module.exports = (x) => x + 1;

// Runs inside a workerpool worker thread: the trivial task of the executor micro benchmarks.
'use strict';
require('workerpool').worker({ inc: (x) => x + 1 });

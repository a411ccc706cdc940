// Runs inside a worker thread: the least a Worker can do, to time a bare `new Worker` start.
'use strict';
require('node:worker_threads').parentPort.postMessage(0);

// Runs inside a workerpool worker thread: the raw-peer side of the main benchmark (see piscina-tasks.cjs).
'use strict';
require('tsx/cjs');
const workerpool = require('workerpool');
const { run } = require('../workloads/tasks.ts');

workerpool.worker({ run });

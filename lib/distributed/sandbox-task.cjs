'use strict';
// BullMQ's sandbox loads its processor with import(), which cannot load TypeScript: when threadkit
// runs from its sources (not built), the distributed worker gives it this file, which loads the
// TypeScript processor through tsx. The built package gives it sandbox-task.js directly.
const path = require('node:path');
if (require.extensions['.ts'] === undefined) {
  const api = require.resolve('tsx/cjs/api', { paths: [__dirname, process.cwd()] });
  require(api).register();
}
module.exports = require(path.join(__dirname, 'sandbox-task.ts'));

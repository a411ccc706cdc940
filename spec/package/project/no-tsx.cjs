// Submits a TypeScript task module in a project that has not installed tsx (spec/package/package.spec.ts):
// the task fails with an error that says to install it.
const path = require('node:path');
const { ThreadPoolExecutor } = require('threadkit/futures');
const { fromModule } = require('threadkit');

async function main() {
  const executor = new ThreadPoolExecutor({ maxWorkers: 1 });
  try {
    const outcome = await executor.submit(fromModule(path.join(__dirname, 'task.ts'), 'half'), 84).then(String, (e) => `${e.name}: ${e.message}`);
    console.log(outcome);
  } finally {
    await executor.shutdown();
  }
}
main();

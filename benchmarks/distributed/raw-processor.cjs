// The raw-BullMQ sandboxed processor of the distributed benchmark: the same trivial work as the
// threadkit tasks, run by BullMQ in its own child processes or worker threads.
module.exports = async (job) => job.data.x + 1;

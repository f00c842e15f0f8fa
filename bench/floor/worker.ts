/**
 * The floor worker, run as its own process by `bench/run.ts` (like the real worker, `src/worker.ts`): the same
 * SDK defaults (cache size, pollers, slots), only the bare workflow and no activities.
 *
 *   TEMPORAL_ADDRESS=… TEMPORAL_TASK_QUEUE=bench-floor node --import tsx bench/floor/worker.ts
 */
import { Worker } from '@temporalio/worker';
import { connectWorker, temporalSettings } from '../../src/temporal/connection';

async function main(): Promise<void> {
  const settings = temporalSettings();
  const address = settings.address;
  const taskQueue = process.env.TEMPORAL_TASK_QUEUE;
  if (!address || !taskQueue) throw new Error('TEMPORAL_ADDRESS and TEMPORAL_TASK_QUEUE are required');
  const connection = await connectWorker(settings);
  const worker = await Worker.create({
    connection,
    namespace: settings.namespace,
    taskQueue,
    workflowsPath: require.resolve('./workflows'),
  });
  console.log(`worker polling task queue ${taskQueue} on ${address}`);
  await worker.run();
  await connection.close();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

/**
 * The replay test catches an incompatible workflow change: the same recorded histories replayed against two
 * variants of the member workflow, each bundled on its own. Unguarded, a new timer before the first drain is a
 * DeterminismViolationError; guarded by `patched()`, the old histories replay as before.
 */
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { quiet } from '../support/harness';
import { loadFixtures } from './fixtures';

jest.setTimeout(120_000);

const memberRuns = loadFixtures().filter(
  (f) => f.history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name === 'memberCreditsWorkflow',
);

async function replay(variant: 'incompatible' | 'patched') {
  quiet();
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: path.join(__dirname, variant, 'workflows.ts'),
    logger: new DefaultLogger('ERROR'),
  });
  const outcomes: { file: string; error?: Error }[] = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle },
    memberRuns.map((f) => ({ workflowId: f.file, history: f.history })),
  )) {
    outcomes.push({ file: result.workflowId, error: result.error });
  }
  return outcomes;
}

it('has member histories to replay', () => {
  expect(memberRuns.length).toBeGreaterThanOrEqual(5);
});

it('an unguarded new command fails replay of every recorded member run with a DeterminismViolationError', async () => {
  const outcomes = await replay('incompatible');
  expect(outcomes.map((o) => o.file)).toEqual(memberRuns.map((f) => f.file));
  for (const { file, error } of outcomes) {
    expect({ file, error: error?.name }).toEqual({ file, error: 'DeterminismViolationError' });
    expect(error).toBeInstanceOf(DeterminismViolationError);
  }
});

it('the same change behind patched() replays every recorded member run', async () => {
  const outcomes = await replay('patched');
  expect(outcomes.map(({ file, error }) => ({ file, error: error && `${error.name}: ${error.message}` }))).toEqual(
    memberRuns.map((f) => ({ file: f.file, error: undefined })),
  );
});

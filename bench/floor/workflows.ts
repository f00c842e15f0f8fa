/**
 * The benchmark's floor: a workflow whose Update handler does nothing. It measures what any Temporal Update
 * costs on this server and worker (admission, workflow task, history), with no state, no validator and no
 * activity. Like the member workflow it continues as new when the server suggests it (the server caps a run
 * at 2,000 Updates by default), so a long benchmark never hits that cap. Bench-only: the real worker never
 * loads this bundle.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineUpdate,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';

/** Takes the same input as `consume` (so the request payload is the same size) and returns nothing. */
export const bareUpdate = defineUpdate<null, [unknown]>('bare');

export async function floorWorkflow(): Promise<void> {
  setHandler(bareUpdate, () => null);
  await condition(() => workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  await continueAsNew<typeof floorWorkflow>();
}

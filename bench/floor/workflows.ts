/**
 * The benchmark's floor: a workflow whose Update handler does nothing. It measures what any Temporal Update
 * costs on this server and worker (admission, workflow task, history), with no state, no validator and no
 * activity. Like the member workflow it continues as new when the server suggests it (the server caps a run
 * at 2,000 Updates by default), so a long benchmark never hits that cap. Bench-only: the real worker never
 * loads this bundle. `floorRenewalWorkflow` below is the same for the renewal, and the two after it price the other
 * shape of one workflow per member per period (`npm run bench:renewal`, docs/capacity.md).
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineUpdate,
  setHandler,
  sleep,
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

/** What `floorRenewalWorkflow` carries from one period to the next. */
export interface FloorPeriod {
  periodEnd: number;
  /** The member workflow's snapshot, carried unread: the same bytes through continue-as-new. */
  carried: unknown;
}

/**
 * The renewal's floor (`npm run bench:renewal`): what one workflow per member per period costs Temporal at the
 * billing date with nothing else done, the member workflow's commands without its state, lanes, handlers or
 * records. The period timer, then continue-as-new with the same input size, then the next run's first task starts
 * the next period's timer.
 */
export async function floorRenewalWorkflow(period: FloorPeriod): Promise<void> {
  let ended = false;
  void sleep(Math.max(0, period.periodEnd - Date.now())).then(() => (ended = true));
  await condition(() => ended || Date.now() >= period.periodEnd);
  await continueAsNew<typeof floorRenewalWorkflow>({ ...period, periodEnd: period.periodEnd + MONTH_MS });
}

const MONTH_MS = 30 * 24 * 3_600_000;

/**
 * The other shape of one workflow per member per period, for `npm run bench:renewal` to price beside the chain:
 * the run ends at its period end (one task: the timer's) and nothing starts the next one at the instant.
 */
export async function floorEndingWorkflow(period: FloorPeriod): Promise<void> {
  await sleep(Math.max(0, period.periodEnd - Date.now()));
}

/**
 * ...and, in that shape, the next period's run started by the member's first request: an update-with-start whose
 * Update (the lease request's place) answers at once; the run then waits for its period end a month away.
 */
export async function floorStartedOnUseWorkflow(period: FloorPeriod): Promise<void> {
  setHandler(bareUpdate, () => null);
  await sleep(Math.max(0, period.periodEnd - Date.now()));
}

/**
 * History events counted from fetched histories. A marker (run id and event count) is taken after the warm-up;
 * after the measured phase the runs are walked back from the latest one (continue-as-new links each run to the
 * one before), so events of every run that took part are counted, including the continue-as-new itself.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
type HistoryEvent = NonNullable<History['events']>[number];

export interface HistoryMarker {
  workflowId: string;
  runId: string;
  events: number;
}

export async function markHistory(client: Client, workflowId: string): Promise<HistoryMarker> {
  const d = await client.workflow.getHandle(workflowId).describe();
  return { workflowId, runId: d.runId, events: d.historyLength };
}

export interface HistoryCount {
  events: number;
  /** Events by type (e.g. WORKFLOW_TASK_COMPLETED), over the same span. */
  byType: Record<string, number>;
  /** Runs that took part (1 = no continue-as-new since the marker). */
  runs: number;
}

/** Events added since `marker`, across continue-as-new. */
export async function eventsSince(client: Client, marker: HistoryMarker): Promise<HistoryCount> {
  let runId: string | undefined = (await client.workflow.getHandle(marker.workflowId).describe()).runId;
  let events = 0;
  let runs = 0;
  const byType: Record<string, number> = {};
  const tally = (list: HistoryEvent[]) => {
    for (const e of list) {
      const name = typeName(e);
      byType[name] = (byType[name] ?? 0) + 1;
    }
  };
  for (;;) {
    if (runId === undefined) throw new Error(`the run of ${marker.workflowId} marked before the phase was not found`);
    const history: History = await client.workflow.getHandle(marker.workflowId, runId).fetchHistory();
    const list: HistoryEvent[] = history.events ?? [];
    runs++;
    if (runId === marker.runId) {
      const added = list.slice(marker.events);
      tally(added);
      events += added.length;
      return { events, byType, runs };
    }
    tally(list);
    events += list.length;
    runId = list[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
  }
}

/** The event's type, from the one `…EventAttributes` field it carries (e.g. `workflowTaskCompleted`). */
function typeName(e: HistoryEvent): string {
  for (const [key, value] of Object.entries(e)) {
    if (value != null && key.endsWith('EventAttributes')) return key.slice(0, -'EventAttributes'.length);
  }
  return `type ${String(e.eventType)}`;
}

/** Waits until the workflow's history stops growing (trailing workflow tasks and activities have finished). */
export async function waitForQuietHistory(
  client: Client,
  workflowIds: string[],
  opts: { settleMs?: number; timeoutMs?: number; ready?: (workflowId: string) => Promise<boolean> } = {},
): Promise<void> {
  const settleMs = opts.settleMs ?? 400;
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const lengths = async () =>
    Promise.all(
      workflowIds.map(async (id) => {
        const d = await client.workflow.getHandle(id).describe();
        return `${d.runId}:${d.historyLength}`;
      }),
    );
  let before = await lengths();
  for (;;) {
    await new Promise((r) => setTimeout(r, settleMs));
    const ready = opts.ready ? (await Promise.all(workflowIds.map(opts.ready))).every(Boolean) : true;
    const after = await lengths();
    if (ready && after.every((v, i) => v === before[i])) return;
    if (Date.now() > deadline) throw new Error(`histories of ${workflowIds.length} workflows did not settle in time`);
    before = after;
  }
}

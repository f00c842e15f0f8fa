/**
 * History events counted from fetched histories. A marker (run id and event count) is taken before a measured
 * phase; after it the runs are walked back from the latest one (continue-as-new links each run to the one
 * before), so events of every run that took part are counted, including the continue-as-new itself.
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

/**
 * Event types that are billable Temporal actions a member workflow causes while it runs: an Update accepted, an
 * activity scheduled, a timer started. (An Update refused by its validator is an action too but leaves no event;
 * the bench sends none.)
 */
export const ACTION_EVENTS = ['workflowExecutionUpdateAccepted', 'activityTaskScheduled', 'timerStarted'] as const;

export function actionsIn(byType: Record<string, number>): number {
  return ACTION_EVENTS.reduce((a, t) => a + (byType[t] ?? 0), 0);
}

/** The event's type, from the one `…EventAttributes` field it carries (e.g. `workflowTaskCompleted`). */
function typeName(e: HistoryEvent): string {
  for (const [key, value] of Object.entries(e)) {
    if (value != null && key.endsWith('EventAttributes')) return key.slice(0, -'EventAttributes'.length);
  }
  return `type ${String(e.eventType)}`;
}

/**
 * Waits until the workflows' histories stop growing (trailing workflow tasks and activities have finished).
 * Gives up only when they keep changing for `timeoutMs` (default 10 min plus 2 s per workflow: the wait scales
 * with the work), saying so every 30 s meanwhile.
 */
export async function waitForQuietHistory(
  client: Client,
  workflowIds: string[],
  opts: { settleMs?: number; timeoutMs?: number; log?: (msg: string) => void } = {},
): Promise<void> {
  const settleMs = opts.settleMs ?? Math.max(1000, workflowIds.length * 20);
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? 600_000 + workflowIds.length * 2_000;
  const deadline = started + timeoutMs;
  let said = started;
  const lengths = async () => {
    const out: string[] = [];
    // A few at a time: hundreds of describes at once would load the server being measured.
    for (let i = 0; i < workflowIds.length; i += 20) {
      const chunk = await Promise.all(
        workflowIds.slice(i, i + 20).map(async (id) => {
          const d = await client.workflow.getHandle(id).describe();
          return `${d.runId}:${d.historyLength}`;
        }),
      );
      out.push(...chunk);
    }
    return out;
  };
  let before = await lengths();
  for (;;) {
    await new Promise((r) => setTimeout(r, settleMs));
    const after = await lengths();
    const moving = after.filter((v, i) => v !== before[i]).length;
    if (moving === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `histories of ${moving} of ${workflowIds.length} workflows still grew after ${timeoutMs / 1000} s`,
      );
    }
    if (opts.log && Date.now() - said > 30_000) {
      said = Date.now();
      opts.log(`  waiting for quiet histories: ${moving} of ${workflowIds.length} still growing`);
    }
    before = after;
  }
}

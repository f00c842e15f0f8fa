/**
 * Replays every committed history in test/fixtures/histories/ (and previous/<label>/, histories kept from an
 * earlier version) against the current workflow code. A change to workflows/ that would break a running workflow
 * (different commands for the same history) fails here, with the fixture's name. Needs no server. First checks
 * that the fixtures are there and show what each scenario is about, so a lost or mis-recorded file fails too.
 * How to change workflows safely: docs/changing-workflows.md.
 */
import { Worker } from '@temporalio/worker';
import { MemberCreditsState } from '../../workflows/member-credits/state';
import type { MemberWorkflowInput } from '../../workflows/member-credits/types';
import { workflowBundle } from '../support/harness';
import { eventType, loadFixtures, loadPreviousFixtures, SCENARIOS, type Fixture, type HistoryEvent } from './fixtures';

jest.setTimeout(120_000);

const fixtures = loadFixtures();
const of = (scenario: string) => fixtures.filter((f) => f.scenario === scenario);
const events = (f: Fixture): HistoryEvent[] => f.history.events ?? [];
const types = (f: Fixture) => events(f).map(eventType);
const workflowType = (f: Fixture) => events(f)[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
const updates = (f: Fixture) =>
  events(f).flatMap((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name ?? []);
const activities = (f: Fixture) =>
  events(f).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
const markers = (f: Fixture) => events(f).flatMap((e) => e.markerRecordedEventAttributes?.markerName ?? []);
/** The activity types of a run's local activities (the SDK's marker carries them in its `data` detail). */
const localActivities = (f: Fixture) =>
  events(f).flatMap((e) => {
    const data = e.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data;
    return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type: string }).activity_type] : [];
  });
const endsWith = (f: Fixture) => types(f).at(-1);
const startedOf = (f: Fixture | undefined) => f && events(f)[0]?.workflowExecutionStartedEventAttributes;
const runId = (f: Fixture) => startedOf(f)?.originalExecutionRunId;
/** The runs of a scenario, failing (rather than reading undefined) when fewer than `count` are recorded. */
function runsOf(scenario: string, count: number): Fixture[] {
  const runs = of(scenario);
  expect({ scenario, runs: runs.length >= count }).toEqual({ scenario, runs: true });
  return runs;
}

describe('recorded histories', () => {
  it('cover every scenario, each as a complete chain of runs', () => {
    for (const scenario of Object.values(SCENARIOS)) {
      const runs = of(scenario);
      // At least one file, numbered run1, run2, … without gaps.
      expect({ scenario, runs: runs.map((r) => r.run) }).toEqual({
        scenario,
        runs: Array.from({ length: Math.max(1, runs.length) }, (_, i) => i + 1),
      });
      // Run 1 started the workflow; run n+1 continued from run n, and is the run that run n continued as.
      for (const [i, run] of runs.slice(1).entries()) {
        const previous = runs[i];
        const started = startedOf(run);
        const continuedAs = events(previous).at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
        expect({
          file: run.file,
          from: started?.continuedExecutionRunId,
          runId: started?.originalExecutionRunId,
        }).toEqual({ file: run.file, from: runId(previous), runId: continuedAs });
      }
      expect({ file: runs[0]?.file, from: startedOf(runs[0])?.continuedExecutionRunId || null }).toEqual({
        file: runs[0]?.file,
        from: null,
      });
    }
    expect(fixtures.map((f) => f.scenario).filter((s) => !Object.values<string>(SCENARIOS).includes(s))).toEqual([]);
  });

  it(`${SCENARIOS.renewal}: continue-as-new at three period ends (timer fired), then the open period`, () => {
    const runs = runsOf(SCENARIOS.renewal, 4);
    expect(runs.map(workflowType)).toEqual(Array(4).fill('memberCreditsWorkflow'));
    for (const run of runs.slice(0, 3)) {
      expect(types(run)).toContain('TIMER_FIRED');
      expect(endsWith(run)).toBe('WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
      // One local activity renews (leases back, the plan read, the records written, the PAYG charges posted) in
      // the task the period timer wakes, and that task continues as new: nothing after it.
      expect(localActivities(run)).toEqual(['renewMemberPeriod']);
      expect(activities(run)).not.toContain('renewMemberPeriod');
      expect(types(run).slice(-5)).toEqual([
        'WORKFLOW_TASK_SCHEDULED',
        'WORKFLOW_TASK_STARTED',
        'WORKFLOW_TASK_COMPLETED',
        'MARKER_RECORDED',
        'WORKFLOW_EXECUTION_CONTINUED_AS_NEW',
      ]);
    }
    // The PAYG charge of period 2 is posted by the renewal at its end: the next run has nothing of it to post.
    expect(activities(runs[2])).not.toContain('postInvoiceCharges');
    expect(endsWith(runs[3])).not.toBe('WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
  });

  it(`${SCENARIOS.payg}: every member message and the three delivery lanes`, () => {
    const [run] = runsOf(SCENARIOS.payg, 1);
    expect(workflowType(run)).toBe('memberCreditsWorkflow');
    expect(new Set(updates(run))).toEqual(
      new Set(['consume', 'setPayg', 'purchaseCredits', 'reserve', 'settle', 'release', 'changePlan']),
    );
    expect(new Set(activities(run))).toEqual(
      new Set(['writeMemberRecords', 'sendMemberNotifications', 'postInvoiceCharges', 'claimTeamPayg']),
    );
    // No markers: no local activity (the renewal is the only one), no side effect, no patch (nothing of an
    // earlier version is deployed).
    expect(markers(run)).toEqual([]);
  });

  it(`${SCENARIOS.suggestedContinueAsNew}: continue-as-new on Temporal's suggestion, before any timer fired`, () => {
    const [first, second] = runsOf(SCENARIOS.suggestedContinueAsNew, 2);
    expect(events(first).some((e) => e.workflowTaskStartedEventAttributes?.suggestContinueAsNew)).toBe(true);
    expect(types(first)).not.toContain('TIMER_FIRED');
    expect(endsWith(first)).toBe('WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
    expect(updates(second)).toContain('consume');
  });

  it(`${SCENARIOS.removal}: removeMember, then the workflow completes`, () => {
    const [run] = runsOf(SCENARIOS.removal, 1);
    expect(updates(run)).toContain('removeMember');
    expect(endsWith(run)).toBe('WORKFLOW_EXECUTION_COMPLETED');
  });

  it(`${SCENARIOS.webhookDelivered} and ${SCENARIOS.webhookGaveUp}: one delivery each, delivered or given up`, () => {
    const [delivered] = runsOf(SCENARIOS.webhookDelivered, 1);
    expect(workflowType(delivered)).toBe('webhookDeliveryWorkflow');
    expect(activities(delivered)).toEqual(['deliverWebhook']);
    expect(endsWith(delivered)).toBe('WORKFLOW_EXECUTION_COMPLETED');
    const [gaveUp] = runsOf(SCENARIOS.webhookGaveUp, 1);
    expect(activities(gaveUp)).toEqual(['deliverWebhook', 'finishWebhookDelivery']);
    expect(types(gaveUp).some((t) => t === 'ACTIVITY_TASK_TIMED_OUT' || t === 'ACTIVITY_TASK_FAILED')).toBe(true);
    expect(endsWith(gaveUp)).toBe('WORKFLOW_EXECUTION_COMPLETED');
  });

  it(`${SCENARIOS.planChange}: the upgrade sent to the members`, () => {
    const [run] = runsOf(SCENARIOS.planChange, 1);
    expect(workflowType(run)).toBe('planChangeWorkflow');
    expect(activities(run)).toEqual(['applyPlanUpgrade']);
    expect(endsWith(run)).toBe('WORKFLOW_EXECUTION_COMPLETED');
  });

  it(`${SCENARIOS.teamBilling}: an invoice finalized in each closed period`, () => {
    const runs = runsOf(SCENARIOS.teamBilling, 2);
    expect(runs.map(workflowType)).toEqual(Array(runs.length).fill('teamBillingWorkflow'));
    for (const run of runs.slice(0, -1)) {
      expect(activities(run)).toEqual(['finalizeInvoice']);
      expect(types(run)).toContain('ACTIVITY_TASK_COMPLETED');
    }
  });
});

describe('carried state', () => {
  /** The member workflow's input of every run: the carried snapshot of a continued run, as recorded. */
  const inputs = fixtures
    .filter((f) => workflowType(f) === 'memberCreditsWorkflow')
    .map((f) => {
      const payload = startedOf(f)?.input?.payloads?.[0];
      const data = payload?.data;
      const bytes = typeof data === 'string' ? Buffer.from(data, 'base64') : Buffer.from(data ?? []);
      return { file: f.file, input: JSON.parse(bytes.toString('utf8')) as MemberWorkflowInput };
    });

  it('every recorded snapshot decodes into the current state class with exactly its fields', () => {
    const carried = inputs.filter((i) => i.input.carried);
    expect(carried.length).toBeGreaterThanOrEqual(4);
    const fresh = MemberCreditsState.open(carried[0].input, Date.now(), 'run').snapshot();
    for (const { file, input } of carried) {
      const snapshot = input.carried!;
      // A renamed or dropped field of the snapshot would replay cleanly and break every running member.
      expect({ file, fields: Object.keys(snapshot).sort() }).toEqual({ file, fields: Object.keys(fresh).sort() });
      const state = MemberCreditsState.fromSnapshot(snapshot);
      expect(state.snapshot()).toEqual(snapshot);
      expect(state.balance().remaining).toBe(
        snapshot.allowance + snapshot.purchased - snapshot.usedAllowance - snapshot.usedPurchased,
      );
    }
  });
});

describe('replay against the current workflow code', () => {
  it('replays every recorded history (and every kept one of an earlier version) without an error', async () => {
    // Kept histories of earlier versions (previous/<label>/) stand for runs that may still be open.
    const all = [...fixtures, ...loadPreviousFixtures()];
    expect(fixtures.length).toBeGreaterThan(0);
    const results = Worker.runReplayHistories(
      { workflowBundle: await workflowBundle() },
      all.map((f) => ({ workflowId: f.file, history: f.history })),
    );
    const outcomes: { file: string; error?: string }[] = [];
    for await (const result of results) {
      outcomes.push({
        file: result.workflowId,
        ...(result.error && { error: `${result.error.name}: ${result.error.message}` }),
      });
    }
    // Every file answered, none with an error (a failure names the file and the error).
    expect(outcomes).toEqual(all.map((f) => ({ file: f.file })));
  });
});

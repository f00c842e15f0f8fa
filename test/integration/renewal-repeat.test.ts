/**
 * The renewal made twice, and the renewal when its local activity keeps failing. `renewMemberPeriod` is a local activity: when the workflow task that ran it fails after
 * its transaction committed (worker killed, server restarted), the task runs again and makes the renewal again,
 * with the attempt back at 1. The second renewal must be the first one: the plan read back from what the first
 * wrote (the team's plan may have changed in between), no row written twice. Real PostgreSQL; the activity runs in
 * the SDK's activity environment, as the worker runs it. When the local activity keeps failing (PostgreSQL away
 * for longer than a few quick tries), the workflow hands the renewal to the ordinary activity: a real worker on the
 * dev server, its local tries made to fail by an activity interceptor.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { RenewalResult } from '../../activities/records';
import { createSmtpMailer } from '../../src/mailer';
import { activityDeps } from '../../src/worker';
import { periodContaining } from '../../workflows/domain/periods';
import { memberWorkflowId } from '../../workflows/ids';
import { creditStateQuery } from '../../workflows/member-credits/messages';
import { MemberCreditsState } from '../../workflows/member-credits/state';
import { memberCreditsWorkflow } from '../../workflows/member-credits/workflow';
import { createHarness, eventually, seedTeam, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

it('a renewal made again after its commit keeps the plan it was written with and writes nothing twice', async () => {
  const teamId = await seedTeam(h, { plan: 'basic', members: [{ userId: 'rr' }] });
  const identity = { teamId, userId: 'rr', billingAnchorDay: 1, plan: h.plans.get('basic')! };
  const state = MemberCreditsState.open(identity, Date.UTC(2026, 0, 15), 'run-1');
  const input = { snapshot: state.renewalSnapshot(), now: state.periodEnd + 1_000 };
  const mailer = createSmtpMailer(h.smtpUrl);
  const activities = createActivities(activityDeps({ db: h.db, mailer, client: h.client, taskQueue: 'unused' }));
  const env = new MockActivityEnvironment({
    attempt: 1,
    workflowExecution: { workflowId: `member/${teamId}/rr`, runId: 'run-1' },
  });
  const rows = () =>
    h
      .db('ledger_entries')
      .where({ team_id: teamId, user_id: 'rr' })
      .orderBy('entry_key')
      .select('entry_key', 'kind', 'millicredits', 'period_start');
  try {
    const first: RenewalResult = await env.run(activities.renewMemberPeriod, input);
    const written = await rows();
    expect(first.plan.planId).toBe('basic');
    expect(written.map((r) => r.kind).sort()).toEqual(['expire', 'grant', 'grant']);

    // The team moves to another plan between the two; a renewal that read the plan afresh would open the next
    // period on it.
    await h.db('teams').where({ team_id: teamId }).update({ plan: 'professional' });
    expect(await h.teams.planAt(teamId, state.periodEnd)).toBe('professional');

    const second: RenewalResult = await env.run(activities.renewMemberPeriod, input);
    expect(second).toEqual(first);
    expect(await rows()).toEqual(written);
  } finally {
    mailer.close();
  }
});

it('a renewal whose local activity keeps failing is made by the ordinary activity, once', async () => {
  const teamId = await seedTeam(h, { plan: 'basic', members: [{ userId: 'rf' }] });
  const identity = { teamId, userId: 'rf', billingAnchorDay: 1, plan: h.plans.get('basic')! };
  // A run that starts with its period over: the previous period, as a run carried it to its billing date.
  const current = periodContaining(Date.now(), 1);
  const carried = MemberCreditsState.open(identity, current.start - 1, 'run-before').snapshot();
  const tries: string[] = [];
  const failLocalRenewals: ActivityInterceptorsFactory = (ctx) => ({
    inbound: {
      async execute(input, next) {
        if (ctx.info.activityType !== 'renewMemberPeriod') return next(input);
        tries.push(ctx.info.isLocal ? 'local' : 'activity');
        if (ctx.info.isLocal) throw new Error('PostgreSQL is away (test)');
        return next(input);
      },
    },
  });
  const rows = () =>
    h
      .db('ledger_entries')
      .where({ team_id: teamId, user_id: 'rf' })
      .orderBy('entry_key')
      .select('entry_key', 'kind', 'millicredits', 'period_start');
  await h.withWorker(
    async (taskQueue) => {
      const handle = await h.client.workflow.start(memberCreditsWorkflow, {
        workflowId: memberWorkflowId(teamId, 'rf'),
        taskQueue,
        args: [{ ...identity, carried }],
      });
      const state = await eventually(async () => {
        const view = await handle.query(creditStateQuery).catch(() => undefined);
        return view && view.balance.periodStart === current.start && view.pendingRecords === 0 ? view : undefined;
      });
      expect(state.balance.periodStart).toBe(current.start);
      await handle.terminate('test over');
    },
    { interceptors: { activity: [failLocalRenewals] } },
  );
  // Three quick tries in the task, then the ordinary activity: once.
  expect(tries).toEqual(['local', 'local', 'local', 'activity']);
  const written = await rows();
  const byKind = (kind: string) => written.filter((r) => r.kind === kind).map((r) => Number(r.period_start));
  // The carried period closed (its grant, which it had not written yet, and its expiry) and the next one opened.
  expect(byKind('expire')).toEqual([carried.periodStart]);
  expect(byKind('grant').sort((a, b) => a - b)).toEqual([carried.periodStart, current.start]);
  expect(new Set(written.map((r) => r.entry_key)).size).toBe(written.length);
});

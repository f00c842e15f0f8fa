/**
 * The renewal made twice. `renewMemberPeriod` is a local activity: when the workflow task that ran it fails after
 * its transaction committed (worker killed, server restarted), the task runs again and makes the renewal again,
 * with the attempt back at 1. The second renewal must be the first one: the plan read back from what the first
 * wrote (the team's plan may have changed in between), no row written twice. Real PostgreSQL; the activity runs in
 * the SDK's activity environment, as the worker runs it.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import type { RenewalResult } from '../../activities/records';
import { createSmtpMailer } from '../../src/mailer';
import { activityDeps } from '../../src/worker';
import { MemberCreditsState } from '../../workflows/member-credits/state';
import { createHarness, seedTeam, type Harness } from '../support/harness';

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

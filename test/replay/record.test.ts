/**
 * Records the histories in test/fixtures/histories/ from real runs of the current workflow code, against the
 * servers `npm test` starts. Skipped unless RECORD_HISTORIES is set:
 *
 *   RECORD_HISTORIES=1 npm test -- test/replay/record
 *
 * Every scenario rewrites its own files (`<scenario>.run<n>.json`, one per run of the workflow id), so a
 * re-recording replaces them; commit them with the workflow change that made them necessary.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { InvoiceStore } from '../../src/db/invoice-store';
import { WebhookStore } from '../../src/db/webhook-store';
import { PlanChanges } from '../../src/temporal/plan-changes';
import { WebhookDeliveries } from '../../src/temporal/webhook-deliveries';
import { memberEventRecord } from '../../src/webhooks/events';
import { memberWorkflowId, planChangeWorkflowId, teamWorkflowId, webhookDeliveryWorkflowId } from '../../workflows/ids';
import { changePlanUpdate, creditStateQuery } from '../../workflows/member-credits/messages';
import type { MemberCreditsView } from '../../workflows/member-credits/types';
import {
  credits as memberCredits,
  createHarness,
  createTimeSkippingHarness,
  eventually,
  seedTeam,
  skipPastBillingDate,
  TEST_WEBHOOKS,
  type Harness,
} from '../support/harness';
import { WebhookReceiver } from '../support/webhook-receiver';
import { eventType, fixtureName, HISTORIES_DIR, historyToJson, SCENARIOS, type History } from './fixtures';

const maybe = process.env.RECORD_HISTORIES ? describe : describe.skip;

jest.setTimeout(300_000);

const CLOSED = new Set(['WORKFLOW_EXECUTION_COMPLETED', 'WORKFLOW_EXECUTION_CONTINUED_AS_NEW']);
const ACTIVITY_DONE = new Set([
  'ACTIVITY_TASK_COMPLETED',
  'ACTIVITY_TASK_FAILED',
  'ACTIVITY_TASK_TIMED_OUT',
  'ACTIVITY_TASK_CANCELED',
]);

/** A run's history once nothing is in flight: closed, or no workflow task or activity outstanding. */
async function settledHistory(client: Client, workflowId: string, runId: string): Promise<History> {
  let previous = -1;
  return eventually(
    async () => {
      const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
      const types = (history.events ?? []).map(eventType);
      if (CLOSED.has(types.at(-1)!)) return history;
      const lastTask = types.filter((t) => t.startsWith('WORKFLOW_TASK_')).at(-1);
      const scheduled = types.filter((t) => t === 'ACTIVITY_TASK_SCHEDULED').length;
      const done = types.filter((t) => ACTIVITY_DONE.has(t)).length;
      const idle = lastTask === 'WORKFLOW_TASK_COMPLETED' && scheduled === done && types.length === previous;
      previous = types.length;
      if (!idle) await new Promise((r) => setTimeout(r, 200));
      return idle ? history : undefined;
    },
    30_000,
    `a settled history of ${workflowId} run ${runId}`,
  );
}

/** Writes every run of `workflowId` from `firstRunId` on (following continue-as-new) as `<scenario>.run<n>.json`. */
async function saveRuns(client: Client, workflowId: string, firstRunId: string, scenario: string): Promise<History[]> {
  const runs: History[] = [];
  for (let runId: string | undefined = firstRunId; runId;) {
    const history = await settledHistory(client, workflowId, runId);
    runs.push(history);
    runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  // Only now replace the scenario's files (its number of runs may have changed).
  mkdirSync(HISTORIES_DIR, { recursive: true });
  for (const file of readdirSync(HISTORIES_DIR)) {
    if (file.startsWith(`${scenario}.run`)) rmSync(path.join(HISTORIES_DIR, file));
  }
  for (const [i, history] of runs.entries()) {
    writeFileSync(path.join(HISTORIES_DIR, fixtureName(scenario, i + 1)), `${historyToJson(history)}\n`);
  }
  return runs;
}

/** The member's state once every outbox has been written (ledger rows, charges, notifications). */
function drained(client: Client, teamId: string, userId: string): Promise<MemberCreditsView> {
  return eventually(
    async () => {
      const view = await client.workflow.getHandle(memberWorkflowId(teamId, userId)).query(creditStateQuery);
      return view.pendingRecords === 0 && view.pendingDeliveries === 0 ? view : undefined;
    },
    30_000,
    `${userId}'s outboxes to drain`,
  );
}

const currentRunId = async (client: Client, workflowId: string) =>
  (await client.workflow.getHandle(workflowId).describe()).runId;

const types = (runs: History[]) => runs.map((r) => (r.events ?? []).map(eventType));

maybe('record histories on the time-skipping test server', () => {
  let testEnv: TestWorkflowEnvironment;
  let h: Harness;
  let close: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ h, testEnv, close } = await createTimeSkippingHarness());
  });
  afterAll(() => close?.());

  it(`${SCENARIOS.renewal} and ${SCENARIOS.teamBilling}: three billing dates, one of them with PAYG`, async () => {
    const teamId = await seedTeam(h, { plan: 'basic', anchorDay: 1, members: [{ userId: 'ida' }] });
    const invoices = new InvoiceStore(h.db);
    // Consumptions per period (basic: 400 credits): 75 % and expiry; past 100 % into PAYG; a little; a little (so
    // that the open run has more than its first workflow task, which the renewal leaves with only its timer).
    const periods = [[150_000, 150_000], [200_000, 200_000, 20_000], [50_000], [10_000]];

    await h.withWorker(async (taskQueue) => {
      const credits = memberCredits(h, taskQueue);
      await credits.members.ensureTeamBilling(teamId);
      const teamFirstRun = await currentRunId(h.client, teamWorkflowId(teamId));
      let memberFirstRun: string | undefined;

      for (const [i, amounts] of periods.entries()) {
        for (const [n, millicredits] of amounts.entries()) {
          const r = await credits.consume(teamId, 'ida', { requestId: `p${i}-${n}`, action: 'chat', millicredits });
          expect(r.decision).toBe(i === 1 && n === 2 ? 'allowed_payg' : 'allowed');
          memberFirstRun ??= await currentRunId(h.client, memberWorkflowId(teamId, 'ida'));
        }
        if (i === periods.length - 1) break;
        const view = await drained(h.client, teamId, 'ida');
        // Past the billing date: the period timer fires, the period closes, the run continues as new.
        await skipPastBillingDate(testEnv, view.balance.periodEnd);
        await eventually(
          async () =>
            (await drained(h.client, teamId, 'ida')).balance.periodStart === view.balance.periodEnd || undefined,
          30_000,
          `period ${i + 2}`,
        );
      }
      // Past the last grace window: the team workflow finalizes the third invoice too.
      await testEnv.sleep(2 * 60 * 60 * 1000);
      const list = await eventually(
        async () => {
          const l = await invoices.list(teamId);
          return l.filter((inv) => inv.status === 'finalized').length === 3 ? l : undefined;
        },
        30_000,
        'three finalized invoices',
      );
      // The PAYG of period 2 (20 credits at 0.04) is on the invoice finalized after billing date 2.
      expect(list.map((inv) => `${inv.sequence}:${inv.status}:${inv.totalMinor}`).reverse()).toEqual([
        '1:finalized:0',
        '2:finalized:80',
        '3:finalized:0',
        '4:open:0',
      ]);

      const member = await saveRuns(h.client, memberWorkflowId(teamId, 'ida'), memberFirstRun!, SCENARIOS.renewal);
      const team = await saveRuns(h.client, teamWorkflowId(teamId), teamFirstRun, SCENARIOS.teamBilling);
      // Three renewals, then the open run: its last workflow task ended with the task itself or with the Update it
      // completed, depending on which activity came back last.
      const ends = types(member).map((t) => t.at(-1)!);
      expect(ends.slice(0, 3)).toEqual(Array(3).fill('WORKFLOW_EXECUTION_CONTINUED_AS_NEW'));
      expect(ends).toHaveLength(4);
      expect(CLOSED.has(ends[3])).toBe(false);
      expect(types(team).map((t) => t.filter((e) => e === 'ACTIVITY_TASK_COMPLETED').length)).toEqual([1, 1, 1, 0]);
    });
  });
});

maybe('record histories on the dev server', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h?.close());

  it(`${SCENARIOS.payg}: 75 %, 100 %, refused, PAYG on, PAYG use, PAYG off, refused, purchase, holds`, async () => {
    const teamId = await seedTeam(h, {
      members: [{ userId: 'cat' }, { userId: 'bill', roles: ['billing', 'member'] }],
    });
    await h.withWorker(async (tq) => {
      const credits = memberCredits(h, tq);
      const consume = (requestId: string, millicredits: number) =>
        credits.consume(teamId, 'cat', { requestId, action: 'chat', millicredits });
      expect(await credits.setPayg(teamId, 'cat', { enabled: false })).toMatchObject({
        balance: { paygEnabled: false },
      });
      const firstRun = await currentRunId(h.client, memberWorkflowId(teamId, 'cat'));
      expect(await consume('a', 200_000)).toMatchObject({ decision: 'allowed' });
      expect(await consume('b', 100_000)).toMatchObject({ decision: 'allowed', balance: { remaining: 100_000 } });
      expect(await consume('c', 100_000)).toMatchObject({ decision: 'allowed', balance: { remaining: 0 } });
      expect(await consume('d', 5_000)).toMatchObject({ decision: 'refused', reason: 'paused' });
      expect(await credits.setPayg(teamId, 'cat', { enabled: true })).toMatchObject({
        balance: { paygEnabled: true, paused: false },
      });
      expect(await consume('e', 12_500)).toMatchObject({ decision: 'allowed_payg', charged: { payg: 12_500 } });
      expect(await credits.setPayg(teamId, 'cat', { enabled: false })).toMatchObject({ balance: { paused: true } });
      expect(await consume('f', 1_000)).toMatchObject({ decision: 'refused', reason: 'paused' });
      expect(await credits.purchase(teamId, 'cat', 'buy-1', 50_000)).toMatchObject({
        amountMinor: 175,
      });
      expect(await consume('g', 20_000)).toMatchObject({ decision: 'allowed', charged: { purchased: 20_000 } });
      // Holds: one settled for less, one released, one left to expire by the workflow's timer.
      const reserve = (reservationId: string, millicredits: number, ttlMs = 60_000) =>
        credits.reserve(teamId, 'cat', { reservationId, action: 'chat', millicredits, ttlMs });
      expect(await reserve('h1', 10_000)).toMatchObject({ decision: 'held', balance: { held: 10_000 } });
      expect(await credits.settle(teamId, 'cat', 'h1', 4_000)).toMatchObject({ charged: { purchased: 4_000 } });
      expect(await reserve('h2', 5_000)).toMatchObject({ decision: 'held' });
      expect(await credits.release(teamId, 'cat', 'h2')).toMatchObject({ released: 5_000, how: 'released' });
      expect(await reserve('h3', 1_000, 2_000)).toMatchObject({ decision: 'held' });
      await eventually(async () => ((await drained(h.client, teamId, 'cat')).balance.held === 0 ? true : undefined));
      // The team upgrades to professional: 600 more credits now.
      await h.client.workflow.getHandle(memberWorkflowId(teamId, 'cat')).executeUpdate(changePlanUpdate, {
        args: [{ changeId: 'chg-1', fromPlanId: 'basic', plan: h.plans.get('professional')!, paygEnabled: null }],
      });

      const view = await drained(h.client, teamId, 'cat');
      expect(view.notificationsSent).toEqual(['member_75', 'member_100', 'member_exceeded']);
      expect(view).toMatchObject({ planId: 'professional', balance: { allowance: 1_000_000 } });
      const runs = await saveRuns(h.client, memberWorkflowId(teamId, 'cat'), firstRun, SCENARIOS.payg);
      expect(runs).toHaveLength(1);
    });
  });

  it(`${SCENARIOS.suggestedContinueAsNew}: continue-as-new inside a period when Temporal suggests it`, async () => {
    const teamId = await seedTeam(h, { members: [{ userId: 'gus' }] });
    await h.withWorker(async (tq) => {
      const credits = memberCredits(h, tq);
      const workflowId = memberWorkflowId(teamId, 'gus');
      await credits.members.ensureStarted(teamId, 'gus');
      const firstRun = await currentRunId(h.client, workflowId);
      // Past the allowance every consumption is PAYG and reaches the workflow (within it, leases serve them).
      await credits.consume(teamId, 'gus', { requestId: 'all', action: 'chat', millicredits: 200_000 });
      await credits.consume(teamId, 'gus', { requestId: 'all-2', action: 'chat', millicredits: 200_000 });
      let n = 0;
      while ((await currentRunId(h.client, workflowId)) === firstRun) {
        expect(n).toBeLessThan(200);
        const r = await credits.consume(teamId, 'gus', { requestId: `k-${n++}`, action: 'chat', millicredits: 1_000 });
        expect(r.decision).toBe('allowed_payg');
      }
      // In the next run: a retry of a request the first run answered, and a new one.
      expect(
        await credits.consume(teamId, 'gus', { requestId: 'k-0', action: 'chat', millicredits: 1_000 }),
      ).toMatchObject({ balance: { paygCredits: 1_000 } });
      expect(
        await credits.consume(teamId, 'gus', { requestId: 'last', action: 'chat', millicredits: 1_000 }),
      ).toMatchObject({ balance: { paygCredits: (n + 1) * 1_000 } });
      await drained(h.client, teamId, 'gus');
      const runs = await saveRuns(h.client, workflowId, firstRun, SCENARIOS.suggestedContinueAsNew);
      expect(runs).toHaveLength(2);
      expect(runs[0].events?.some((e) => e.workflowTaskStartedEventAttributes?.suggestContinueAsNew)).toBe(true);
    });
  });

  it(`${SCENARIOS.removal}: the period closes early and the workflow completes`, async () => {
    const teamId = await seedTeam(h, { members: [{ userId: 'hal' }] });
    await h.withWorker(async (tq) => {
      const credits = memberCredits(h, tq);
      const workflowId = memberWorkflowId(teamId, 'hal');
      for (const requestId of ['a', 'b', 'c']) {
        await credits.consume(teamId, 'hal', { requestId, action: 'chat', millicredits: 150_000 });
      }
      const firstRun = await currentRunId(h.client, workflowId);
      await h.teams.markRemoved(teamId, 'hal');
      await credits.members.remove(teamId, 'hal');
      await expect(h.client.workflow.getHandle(workflowId).result()).resolves.toMatchObject({ reason: 'removed' });
      const runs = await saveRuns(h.client, workflowId, firstRun, SCENARIOS.removal);
      expect(types(runs).map((t) => t.at(-1))).toEqual(['WORKFLOW_EXECUTION_COMPLETED']);
    });
  });

  it(`${SCENARIOS.webhookDelivered} and ${SCENARIOS.webhookGaveUp}: a delivery retried until delivered, one given up`, async () => {
    const teamId = await seedTeam(h, { members: [{ userId: 'wes' }] });
    const receiver = new WebhookReceiver();
    await receiver.start();
    const store = new WebhookStore(h.db);
    const secret = 'recording-secret-0123456789';
    for (const [webhookId, behaviour] of [
      ['ok', (n: number) => (n <= 2 ? 500 : 200)],
      ['down', () => 500],
    ] as const) {
      await store.putEndpoint({
        teamId,
        webhookId,
        url: receiver.on(`/${webhookId}`, behaviour),
        events: ['member.paused'],
        secret,
      });
    }
    try {
      await h.withWorker(async (tq) => {
        const event = memberEventRecord(
          {
            type: 'member.paused',
            reason: 'credits_exhausted',
            eventKey: `${teamId}/wes:recorded:member.paused`,
            teamId,
            userId: 'wes',
            periodStart: 0,
            periodEnd: 0,
            planId: 'basic',
            currency: 'USD',
            occurredAt: Date.now(),
          },
          null,
        );
        await store.recordEvents([event]);
        const rows: { delivery_id: string; webhook_id: string }[] = await h
          .db('webhook_deliveries')
          .where({ team_id: teamId })
          .select('delivery_id', 'webhook_id');
        const id = (webhookId: string) => rows.find((r) => r.webhook_id === webhookId)!.delivery_id;
        await new WebhookDeliveries(h.client, tq, TEST_WEBHOOKS.retry).start([id('ok')]);
        // A schedule of a second: it gives up after a few attempts.
        await new WebhookDeliveries(h.client, tq, {
          initialIntervalMs: 200,
          maximumIntervalMs: 200,
          giveUpAfterMs: 1_000,
        }).start([id('down')]);
        for (const [webhookId, scenario, outcome] of [
          ['ok', SCENARIOS.webhookDelivered, 'delivered'],
          ['down', SCENARIOS.webhookGaveUp, 'failed'],
        ] as const) {
          const workflowId = webhookDeliveryWorkflowId(id(webhookId));
          await expect(h.client.workflow.getHandle(workflowId).result()).resolves.toBe(outcome);
          await saveRuns(h.client, workflowId, await currentRunId(h.client, workflowId), scenario);
        }
        expect(receiver.at('/ok')).toHaveLength(3);
      });
    } finally {
      await receiver.stop();
    }
  });

  it(`${SCENARIOS.planChange}: an upgrade sent to the members whose workflow runs`, async () => {
    const teamId = await seedTeam(h, { members: [{ userId: 'pia' }, { userId: 'pat' }] });
    await h.withWorker(async (tq) => {
      const credits = memberCredits(h, tq);
      await credits.members.ensureStarted(teamId, 'pia'); // pat has none: it starts on the team's plan
      const upgraded = await new PlanChanges(h.client, tq).upgrade(
        { teamId, changeId: 'chg-rec', fromPlanId: 'basic', toPlanId: 'professional' },
        60_000,
      );
      expect(upgraded).toEqual({ applied: 1 });
      expect((await credits.members.state(teamId, 'pia')).balance.allowance).toBe(1_000_000);
      const workflowId = planChangeWorkflowId(teamId, 'chg-rec');
      await saveRuns(h.client, workflowId, await currentRunId(h.client, workflowId), SCENARIOS.planChange);
    });
  });
});

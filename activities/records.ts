import { Context } from '@temporalio/activity';
import { TeamStore } from '../src/db/team-store';
import { WebhookStore } from '../src/db/webhook-store';
import { memberEventRecord } from '../src/webhooks/events';
import type { PlanTerms } from '../workflows/domain/plans';
import { MemberCreditsState } from '../workflows/member-credits/state';
import type { BudgetLease, MemberSnapshot, RecordBatch, ReturnedLease } from '../workflows/member-credits/types';
import type { ActivityDeps } from './deps';
import { queueTeamPaygCapEmails, teamPaygThresholdPassed } from './notifications';

export interface WriteMemberRecordsResult {
  /** Queued, unsent emails (the team PAYG threshold) for the workflow's notification lane. */
  emailKeys: string[];
}

export interface RenewalResult {
  /** The leases taken back, with what was spent from each. */
  closed: ReturnedLease[];
  /** The plan the next period opens on. */
  plan: PlanTerms;
  /** The records pushed through this sequence number are in PostgreSQL. */
  writtenThroughSeq: number;
  /** Queued, unsent emails (the team PAYG threshold) for the workflow's notification lane. */
  emailKeys: string[];
  /** The closing periods' PAYG charges, posted to the team's open invoice. */
  chargesPosted: number;
}

export function createRecordActivities(deps: ActivityDeps) {
  return {
    /**
     * Write what the member workflow decided (ledger rows, answers, leases, the usage row, webhook events and their
     * deliveries) in one transaction; rows already stored (a retry, a replay) are skipped by their keys. Then start
     * the webhook deliveries (each is its own workflow: a receiver that is down delays nothing here).
     */
    async writeMemberRecords(batch: RecordBatch): Promise<WriteMemberRecordsResult> {
      const execution = Context.current().info.workflowExecution;
      if (!execution) throw new Error('writeMemberRecords runs only as a workflow activity');
      return { emailKeys: await writeBatch(deps, batch, execution) };
    },

    /**
     * The billing date, in one activity (the member workflow's only one at renewal): take back the leases still out,
     * read the plan the team is on at the period end (a downgrade or a catalogue change takes effect here; the old
     * terms when the team or plan is gone), make the renewal the workflow will make with that plan (the same state
     * code, from the state it sent) and write every record it has not written yet, the closing period's expiry and
     * the next one's grant among them, in one transaction, and post the closing period's PAYG charges. Idempotent: a retry writes nothing twice (the records'
     * keys), and the workflow makes the same renewal from what this returns.
     */
    async renewMemberPeriod({ snapshot, now }: { snapshot: MemberSnapshot; now: number }): Promise<RenewalResult> {
      const execution = Context.current().info.workflowExecution;
      if (!execution) throw new Error('renewMemberPeriod runs only as a workflow activity');
      const state = MemberCreditsState.fromSnapshot(snapshot);
      const closed = await deps.credits.closeLeases(state.leases);
      const { teamId, userId } = state.identity;
      // A repeat after the records' commit keeps the plan they were written with (the team's may have changed
      // since). A local activity is repeated with its attempt back at 1 when the task that ran it failed, so this
      // looks every time.
      const written = await deps.credits.usage(teamId, userId, state.periodEnd);
      const planId = written?.planId ?? (await deps.teams.planAt(teamId, state.periodEnd));
      const plan = (planId === null ? undefined : deps.plans.get(planId)) ?? state.identity.plan;
      const charges = state.renew(execution.runId, plan, now, closed);
      // The closing period's PAYG charges on the team's open invoice (by their keys: once), then the records: after
      // their commit only the webhook deliveries' start is left to fail.
      if (charges.length > 0) await deps.invoices.postCharges(charges);
      const next = state.nextRecords(Number.MAX_SAFE_INTEGER);
      const emailKeys = next ? await writeBatch(deps, next.batch, execution) : [];
      return { closed, plan, writtenThroughSeq: next?.throughSeq ?? 0, emailKeys, chargesPosted: charges.length };
    },

    /** Close budget leases and report what was spent from each (from the ledger rows carrying its id). */
    async closeLeases({ leases }: { leases: BudgetLease[] }): Promise<ReturnedLease[]> {
      return deps.credits.closeLeases(leases);
    },

    /**
     * A member's claim on the team's PAYG cap (its PAYG charge, holds included), granted while the team's claims
     * stay within the cap. A refusal queues the team's one cap email to its Billing users.
     */
    async claimTeamPayg(claim: {
      teamId: string;
      userId: string;
      periodStart: number;
      claimMinor: number;
      seq: number;
    }): Promise<{ granted: boolean; emailKeys: string[] }> {
      const { granted, capMinor } = await deps.credits.claimTeamPayg(claim);
      if (granted || capMinor === null) return { granted, emailKeys: [] };
      return { granted, emailKeys: await queueTeamPaygCapEmails(deps, claim.teamId, claim.periodStart, capMinor) };
    },
  };
}

/**
 * Write what the member workflow decided (ledger rows, answers, leases, the usage row, webhook events and their
 * deliveries) in one transaction; rows already stored (a retry, a replay) are skipped by their keys. Then start the
 * webhook deliveries (each is its own workflow: a receiver that is down delays nothing here). Returns the team
 * PAYG-threshold emails the write queued.
 */
async function writeBatch(
  deps: ActivityDeps,
  batch: RecordBatch,
  execution: { workflowId: string; runId: string },
): Promise<string[]> {
  const events = batch.events ?? [];
  const deliveryIds: string[] = [];
  await deps.credits.writeRecords(
    batch,
    { workflowId: execution.workflowId, runId: execution.runId },
    events.length === 0
      ? undefined
      : async (trx) => {
          const teamCap = events.some((e) => e.type === 'member.payg_cap_reached' && e.scope === 'team')
            ? ((await new TeamStore(trx).getTeam(events[0].teamId))?.paygCapMinor ?? null)
            : null;
          deliveryIds.push(
            ...(await new WebhookStore(trx).recordEvents(events.map((e) => memberEventRecord(e, teamCap)))),
          );
        },
  );
  await deps.deliveries.start(deliveryIds);
  const paygPeriods = new Map<string, { teamId: string; periodStart: number; periodEnd: number }>();
  for (const e of batch.entries) if (e.kind === 'payg') paygPeriods.set(`${e.teamId}:${e.periodStart}`, e);
  const emailKeys: string[] = [];
  for (const p of paygPeriods.values()) {
    emailKeys.push(...(await teamPaygThresholdPassed(deps, p.teamId, p.periodStart, p.periodEnd)));
  }
  return emailKeys;
}

import { Context } from '@temporalio/activity';
import { TeamStore } from '../src/db/team-store';
import { WebhookStore } from '../src/db/webhook-store';
import { memberEventRecord } from '../src/webhooks/events';
import type { PlanTerms } from '../workflows/domain/plans';
import type { BudgetLease, RecordBatch, ReturnedLease } from '../workflows/member-credits/types';
import type { ActivityDeps } from './deps';
import { queueTeamPaygCapEmails, teamPaygThresholdPassed } from './notifications';

export interface WriteMemberRecordsResult {
  /** Queued, unsent emails (the team PAYG threshold) for the workflow's notification lane. */
  emailKeys: string[];
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
      return { emailKeys };
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

    /**
     * The plan the team is on at `at` (the next period's start; now when absent), for the next period: a downgrade
     * takes effect here. Null when the team or plan is gone: keep the old terms.
     */
    async currentPlan({ teamId, at }: { teamId: string; at?: number }): Promise<PlanTerms | null> {
      const planId = await deps.teams.planAt(teamId, at ?? Date.now());
      return (planId === null ? undefined : deps.plans.get(planId)) ?? null;
    },
  };
}

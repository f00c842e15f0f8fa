import { Context } from '@temporalio/activity';
import type { PlanTerms } from '../workflows/domain/plans';
import type { RecordBatch, ReturnedLease } from '../workflows/member-credits/types';
import type { ActivityDeps } from './deps';
import { queueTeamPaygCapEmails, queueTeamPaygThresholdEmails } from './notifications';

export interface WriteMemberRecordsResult {
  /** Queued, unsent emails (the team PAYG threshold) for the workflow's notification lane. */
  emailKeys: string[];
}

export function createRecordActivities(deps: ActivityDeps) {
  return {
    /**
     * Write what the member workflow decided (ledger rows, answers, leases, the usage row) in one transaction;
     * rows already stored (a retry, a replay) are skipped by their keys.
     */
    async writeMemberRecords(batch: RecordBatch): Promise<WriteMemberRecordsResult> {
      const execution = Context.current().info.workflowExecution;
      if (!execution) throw new Error('writeMemberRecords runs only as a workflow activity');
      await deps.credits.writeRecords(batch, { workflowId: execution.workflowId, runId: execution.runId });
      const paygPeriods = new Map<string, { teamId: string; periodStart: number; periodEnd: number }>();
      for (const e of batch.entries) if (e.kind === 'payg') paygPeriods.set(`${e.teamId}:${e.periodStart}`, e);
      const emailKeys: string[] = [];
      for (const p of paygPeriods.values()) {
        emailKeys.push(...(await queueTeamPaygThresholdEmails(deps, p.teamId, p.periodStart, p.periodEnd)));
      }
      return { emailKeys };
    },

    /** Close budget leases and report what was spent from each (from the ledger rows carrying its id). */
    async closeLeases({ leaseIds }: { leaseIds: string[] }): Promise<ReturnedLease[]> {
      return deps.credits.closeLeases(leaseIds);
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

    /** The plan the team is on now, for the next period (null when the team or plan is gone: keep the old terms). */
    async currentPlan({ teamId }: { teamId: string }): Promise<PlanTerms | null> {
      const team = await deps.teams.getTeam(teamId);
      return (team && deps.plans.get(team.plan)) ?? null;
    },
  };
}

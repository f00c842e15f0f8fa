import { Context } from '@temporalio/activity';
import type { LedgerEntry } from '../workflows/member-credits/types';
import type { ActivityDeps } from './deps';
import { queueTeamPaygThresholdEmails } from './notifications';

export interface RecordLedgerEntriesInput {
  entries: LedgerEntry[];
}

export interface RecordLedgerEntriesResult {
  inserted: number;
  /** Queued, unsent emails (the team PAYG threshold) for the workflow's delivery lane. */
  emailKeys: string[];
}

export function createLedgerActivities(deps: ActivityDeps) {
  return {
    /** Append a batch of ledger rows; rows already stored (a retry, a replay) are skipped by their key. */
    async recordLedgerEntries({ entries }: RecordLedgerEntriesInput): Promise<RecordLedgerEntriesResult> {
      const execution = Context.current().info.workflowExecution;
      if (!execution) throw new Error('recordLedgerEntries runs only as a workflow activity');
      const { workflowId, runId } = execution;
      const inserted = await deps.ledger.append(entries, { workflowId, runId });
      const paygPeriods = new Map<string, LedgerEntry>();
      for (const e of entries) if (e.kind === 'payg') paygPeriods.set(`${e.teamId}:${e.periodStart}`, e);
      const emailKeys: string[] = [];
      for (const e of paygPeriods.values()) {
        emailKeys.push(...(await queueTeamPaygThresholdEmails(deps, e.teamId, e.periodStart, e.periodEnd)));
      }
      return { inserted, emailKeys };
    },
  };
}

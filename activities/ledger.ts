import { Context } from '@temporalio/activity';
import type { LedgerEntry } from '../workflows/member-credits/types';
import type { ActivityDeps } from './deps';
import { checkTeamPaygThreshold } from './notifications';

export interface RecordLedgerEntriesInput {
  entries: LedgerEntry[];
}

export function createLedgerActivities(deps: ActivityDeps) {
  return {
    /** Append a batch of ledger rows; rows already stored (a retry, a replay) are skipped by their key. */
    async recordLedgerEntries({ entries }: RecordLedgerEntriesInput): Promise<{ inserted: number }> {
      const execution = Context.current().info.workflowExecution;
      if (!execution) throw new Error('recordLedgerEntries runs only as a workflow activity');
      const { workflowId, runId } = execution;
      const inserted = await deps.ledger.append(entries, { workflowId, runId });
      const paygPeriods = new Map<string, LedgerEntry>();
      for (const e of entries) if (e.kind === 'payg') paygPeriods.set(`${e.teamId}:${e.periodStart}`, e);
      for (const e of paygPeriods.values()) await checkTeamPaygThreshold(deps, e.teamId, e.periodStart, e.periodEnd);
      return { inserted };
    },
  };
}

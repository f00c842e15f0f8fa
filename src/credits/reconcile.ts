/**
 * The reconciliation check (spec §10): for a member's current period, the workflow's state, the usage row and
 * the ledger agree exactly. What leases spent is in the ledger (rows carrying the lease id) and the usage row at
 * once, and in the workflow's state when the lease comes back; so the check adds the spend of the leases still
 * out to the workflow's figures. Run it when the member's records are written (`pendingRecords` 0), as the tests
 * and `npm run reconcile` do.
 */
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { memberWorkflowId } from '../../workflows/ids';
import { creditStateQuery } from '../../workflows/member-credits/messages';
import type { MemberCreditsView } from '../../workflows/member-credits/types';

export interface Figures {
  allowance: number;
  purchased: number;
  used: number;
  paygCredits: number;
}

export interface MemberReconciliation {
  teamId: string;
  userId: string;
  periodStart: number;
  /** The workflow's state, plus what its open leases spent (from the ledger). */
  workflow: Figures & { openLeaseSpend: number; pendingRecords: number };
  usage: (Figures & { expired: number }) | null;
  ledger: Figures & { expired: number };
  /** Empty when all three agree. */
  differences: string[];
}

export async function reconcileMember(
  deps: { db: Knex; client: Client },
  teamId: string,
  userId: string,
): Promise<MemberReconciliation> {
  const view: MemberCreditsView = await deps.client.workflow
    .getHandle(memberWorkflowId(teamId, userId))
    .query(creditStateQuery);
  const periodStart = view.balance.periodStart;
  const leaseIds = view.openLeases.map((l) => l.leaseId); // run id and a number: no commas
  const [sums] = (
    await deps.db.raw(
      `select
         coalesce(sum(millicredits) filter (where kind in ('grant', 'adjustment')), 0)::bigint as allowance,
         coalesce(sum(millicredits) filter (where kind = 'purchase'), 0)::bigint as purchased,
         coalesce(sum(millicredits) filter (where kind = 'consume'), 0)::bigint as used,
         coalesce(sum(millicredits) filter (where kind = 'payg'), 0)::bigint as payg_credits,
         coalesce(sum(millicredits) filter (where kind = 'expire'), 0)::bigint
           - coalesce(sum(millicredits) filter (where kind = 'restore'), 0)::bigint as expired,
         coalesce(sum(millicredits) filter (where kind = 'consume' and lease_id = any(string_to_array(?, ','))), 0)::bigint
           as open_lease_spend
       from ledger_entries where team_id = ? and user_id = ? and period_start = ?`,
      [leaseIds.join(','), teamId, userId, new Date(periodStart)],
    )
  ).rows as {
    allowance: number;
    purchased: number;
    used: number;
    payg_credits: number;
    expired: number;
    open_lease_spend: number;
  }[];
  const usageRow = await deps
    .db('member_usage')
    .where({ team_id: teamId, user_id: userId, period_start: new Date(periodStart) })
    .first('allowance', 'purchased', 'used', 'payg_credits', 'expired');
  const b = view.balance;
  const workflow = {
    allowance: b.allowance,
    purchased: b.purchased,
    used: b.used + sums.open_lease_spend,
    paygCredits: b.paygCredits,
    openLeaseSpend: sums.open_lease_spend,
    pendingRecords: view.pendingRecords,
  };
  const ledger = {
    allowance: sums.allowance,
    purchased: sums.purchased,
    used: sums.used,
    paygCredits: sums.payg_credits,
    expired: sums.expired,
  };
  const usage = usageRow
    ? {
        allowance: usageRow.allowance,
        purchased: usageRow.purchased,
        used: usageRow.used,
        paygCredits: usageRow.payg_credits,
        expired: usageRow.expired,
      }
    : null;
  const differences: string[] = [];
  if (view.pendingRecords > 0) differences.push(`${view.pendingRecords} record(s) still to be written`);
  for (const k of ['allowance', 'purchased', 'used', 'paygCredits'] as const) {
    if (workflow[k] !== ledger[k]) differences.push(`${k}: workflow ${workflow[k]}, ledger ${ledger[k]}`);
    if (usage && usage[k] !== ledger[k]) differences.push(`${k}: usage row ${usage[k]}, ledger ${ledger[k]}`);
  }
  if (usage && usage.expired !== ledger.expired) {
    differences.push(`expired: usage row ${usage.expired}, ledger ${ledger.expired}`);
  }
  if (!usage && ledger.allowance + ledger.purchased + ledger.used + ledger.paygCredits > 0) {
    differences.push('no usage row for a period with ledger rows');
  }
  return { teamId, userId, periodStart, workflow, usage, ledger, differences };
}

import type { Knex } from 'knex';
import { DEFAULT_CURRENCY_EXPONENT } from '../../workflows/domain/money';
import type { LedgerEntry, LedgerKind } from '../../workflows/member-credits/types';

/** A ledger row as stored (snake_case columns). */
interface LedgerRow {
  id: number;
  entry_key: string;
  team_id: string;
  user_id: string;
  period_start: Date;
  period_end: Date;
  kind: LedgerKind;
  millicredits: number;
  amount_minor: number | null;
  currency: string | null;
  request_id: string | null;
  action: string | null;
  workflow_id: string;
  run_id: string;
  occurred_at: Date;
  recorded_at: Date;
  lease_id: string | null;
}

export interface StoredLedgerEntry extends LedgerEntry {
  id: number;
  workflowId: string;
  runId: string;
  recordedAt: number;
}

/** One member-period's balance check: grants + purchases − consumption − expiry, and PAYG against the invoice. */
export interface PeriodReconciliation {
  teamId: string;
  userId: string;
  periodStart: number;
  granted: number;
  purchased: number;
  consumed: number;
  expired: number;
  paygCredits: number;
  /** Zero for every closed period. */
  creditBalance: number;
  paygInvoicedCredits: number;
  paygInvoicedMinor: number;
  /** Σ round_half_up(payg millicredits × rate) as the invoice lines state it. */
  paygExpectedMinor: number;
}

export interface LedgerFilter {
  teamId: string;
  userId?: string;
  periodStart?: number;
}

export class LedgerStore {
  constructor(private readonly db: Knex) {}

  /** Every row matching the filter, in id order (read a page at a time: nothing is cut). */
  async list(filter: LedgerFilter): Promise<StoredLedgerEntry[]> {
    const all: StoredLedgerEntry[] = [];
    let after: number | undefined;
    for (;;) {
      const page = await this.page(filter, { after, limit: 10_000 });
      all.push(...page.entries);
      if (page.next === null) return all;
      after = page.next;
    }
  }

  /**
   * One page of rows in id order (keyset: `after` is the last id of the previous page, so a walk misses and repeats
   * nothing however long the ledger); `next` is null on the last page.
   */
  async page(
    filter: LedgerFilter,
    opts: { after?: number; limit: number },
  ): Promise<{ entries: StoredLedgerEntry[]; next: number | null }> {
    const q = this.db<LedgerRow>('ledger_entries')
      .where('team_id', filter.teamId)
      .orderBy('id')
      .limit(opts.limit + 1);
    if (filter.userId) q.andWhere('user_id', filter.userId);
    if (filter.periodStart !== undefined) q.andWhere('period_start', new Date(filter.periodStart));
    if (opts.after !== undefined) q.andWhere('id', '>', opts.after);
    const rows = await q;
    const entries = rows.slice(0, opts.limit).map(toEntry);
    return { entries, next: rows.length > opts.limit ? entries[entries.length - 1].id : null };
  }

  /**
   * The ledger invariant, one row per member-period: for a closed period creditBalance is 0, and the PAYG
   * credits equal those invoiced at the rounded amount. Filter by team, member and/or closed-before instant.
   */
  async reconcile(
    filter: { teamId?: string; userId?: string; closedBefore?: number; currencyExponent?: number } = {},
  ): Promise<PeriodReconciliation[]> {
    const params: (string | Date | number)[] = [];
    const where: string[] = [];
    if (filter.teamId) {
      where.push('l.team_id = ?');
      params.push(filter.teamId);
    }
    if (filter.userId) {
      where.push('l.user_id = ?');
      params.push(filter.userId);
    }
    if (filter.closedBefore !== undefined) {
      where.push('l.period_end <= ?');
      params.push(new Date(filter.closedBefore));
    }
    const rows = await this.db.raw(
      `with credits as (
         select l.team_id, l.user_id, l.period_start,
           coalesce(sum(l.millicredits) filter (where l.kind in ('grant', 'adjustment')), 0)::bigint as granted,
           coalesce(sum(l.millicredits) filter (where l.kind = 'purchase'), 0)::bigint as purchased,
           coalesce(sum(l.millicredits) filter (where l.kind = 'consume'), 0)::bigint as consumed,
           (coalesce(sum(l.millicredits) filter (where l.kind = 'expire'), 0)
             - coalesce(sum(l.millicredits) filter (where l.kind = 'restore'), 0))::bigint as expired,
           coalesce(sum(l.millicredits) filter (where l.kind = 'payg'), 0)::bigint as payg_credits
         from ledger_entries l
         ${where.length ? `where ${where.join(' and ')}` : ''}
         group by l.team_id, l.user_id, l.period_start
       ), invoiced as (
         select team_id, user_id, period_start,
           sum(millicredits)::bigint as payg_invoiced_credits,
           sum(amount_minor)::bigint as payg_invoiced_minor,
           sum(floor(millicredits::numeric * rate_micros_per_credit * power(10::numeric, ?) / 1000000000 + 0.5))::bigint
             as payg_expected_minor
         from invoice_lines where kind = 'payg'
         group by team_id, user_id, period_start
       )
       select c.*, (c.granted + c.purchased - c.consumed - c.expired)::bigint as credit_balance,
         coalesce(i.payg_invoiced_credits, 0)::bigint as payg_invoiced_credits,
         coalesce(i.payg_invoiced_minor, 0)::bigint as payg_invoiced_minor,
         coalesce(i.payg_expected_minor, 0)::bigint as payg_expected_minor
       from credits c
       left join invoiced i using (team_id, user_id, period_start)
       order by c.team_id, c.user_id, c.period_start`,
      [...params, filter.currencyExponent ?? DEFAULT_CURRENCY_EXPONENT],
    );
    return (rows.rows as Record<string, unknown>[]).map((r) => ({
      teamId: r.team_id as string,
      userId: r.user_id as string,
      periodStart: (r.period_start as Date).getTime(),
      granted: r.granted as number,
      purchased: r.purchased as number,
      consumed: r.consumed as number,
      expired: r.expired as number,
      paygCredits: r.payg_credits as number,
      creditBalance: r.credit_balance as number,
      paygInvoicedCredits: r.payg_invoiced_credits as number,
      paygInvoicedMinor: r.payg_invoiced_minor as number,
      paygExpectedMinor: r.payg_expected_minor as number,
    }));
  }
}

/** True when a reconciled closed period holds: no credits left over and PAYG invoiced exactly. */
export function periodBalances(r: PeriodReconciliation): boolean {
  return (
    r.creditBalance === 0 && r.paygInvoicedCredits === r.paygCredits && r.paygInvoicedMinor === r.paygExpectedMinor
  );
}

function toEntry(r: LedgerRow): StoredLedgerEntry {
  return {
    id: r.id,
    entryKey: r.entry_key,
    teamId: r.team_id,
    userId: r.user_id,
    periodStart: r.period_start.getTime(),
    periodEnd: r.period_end.getTime(),
    kind: r.kind,
    millicredits: r.millicredits,
    amountMinor: r.amount_minor ?? undefined,
    currency: r.currency ?? undefined,
    requestId: r.request_id ?? undefined,
    action: r.action ?? undefined,
    occurredAt: r.occurred_at.getTime(),
    workflowId: r.workflow_id,
    runId: r.run_id,
    recordedAt: r.recorded_at.getTime(),
    leaseId: r.lease_id ?? undefined,
  };
}

/**
 * Usage per day of a billing period, from the ledger: what the dashboard's charts draw. One query per chart,
 * whatever the team's size; the days add up to the ledger's sums for the period exactly.
 */
import type { Knex } from 'knex';
import type { BillingPeriod } from '../../workflows/domain/periods';

/** One UTC day of a period: integer millicredits and minor units. */
export interface DailyUsage {
  /** `YYYY-MM-DD`, a UTC calendar day (billing dates are UTC midnights). */
  day: string;
  /** Credits spent from the allowance and purchased credits (`consume` rows). */
  used: number;
  /** Credits billed as pay-as-you-go (`payg` rows). */
  paygCredits: number;
  /** What this day's PAYG adds to the period's charges (see `daily`). */
  paygChargeMinor: number;
}

/** The team's figures a chart is drawn against. */
export interface TeamLimits {
  teamId: string;
  plan: string;
  billingAnchorDay: number;
  paygThresholdMinor: number | null;
  /** The team's PAYG cap (spec §15), null when the team has none or the schema has no cap yet. */
  paygCapMinor: number | null;
}

export interface DailyUsageQuery {
  teamId: string;
  /** One member, or the whole team when absent. */
  userId?: string;
  period: BillingPeriod;
  /** The last instant to report (now): days after it are not returned. */
  through: number;
  paygRateMicrosPerCredit: number;
  currencyExponent: number;
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export class UsageHistoryStore {
  constructor(private readonly db: Knex) {}

  async teamLimits(teamId: string): Promise<TeamLimits | null> {
    // The cap column comes with spec §15 (issue 12): read through to_jsonb so this query works before and after
    // that migration, and the team chart shows the cap as soon as it exists.
    const row = await this.db('teams as t')
      .where('t.team_id', teamId)
      .first(
        't.team_id',
        't.plan',
        't.billing_anchor_day',
        't.payg_threshold_minor',
        this.db.raw(`(to_jsonb(t) ->> 'payg_cap_minor')::bigint as payg_cap_minor`),
      );
    if (!row) return null;
    return {
      teamId: row.team_id,
      plan: row.plan,
      billingAnchorDay: row.billing_anchor_day,
      paygThresholdMinor: row.payg_threshold_minor,
      paygCapMinor: row.payg_cap_minor,
    };
  }

  /**
   * Every day of the period from its first day to `through`'s day (days without usage are zeros), summed over the
   * member (or every member of the team, removed ones included: their usage was billed).
   *
   * PAYG money: the invoice charges each member once per period, round_half_up(PAYG millicredits × rate). A day's
   * charge is what that day adds to the member's running charge (the rounded charge of everything up to that day
   * minus the rounded charge up to the day before), so a member's days add up to exactly the invoice's figure at
   * the plan's rate, and no day is off by more than one minor unit from its unrounded share. A team's day is the
   * sum of its members' days.
   */
  async daily(q: DailyUsageQuery): Promise<DailyUsage[]> {
    const firstDay = isoDay(q.period.start);
    const lastDay = isoDay(Math.max(q.period.start, Math.min(q.through, q.period.end - 1)));
    // round_half_up(millicredits × rate × 10^exponent / 10^9): money.ts#paygChargeMinor, in exact numerics.
    const chargeFactor = (BigInt(q.paygRateMicrosPerCredit) * 10n ** BigInt(q.currencyExponent)).toString();
    const { rows } = await this.db.raw(
      `with entries as (
         -- A row stamped outside the period's days (a clock at the boundary) counts on its nearest day, so the
         -- days always add up to the period's ledger sums.
         select user_id, kind, millicredits,
           least(greatest((occurred_at at time zone 'UTC')::date, ?::date), ?::date) as day
         from ledger_entries
         where team_id = ? and period_start = ? and kind in ('consume', 'payg') ${q.userId ? 'and user_id = ?' : ''}
       ), used as (
         select day, sum(millicredits) as used from entries where kind = 'consume' group by day
       ), payg_member_days as (
         -- Only PAYG needs each member's running total (for the invoice's per-member rounding): consumption,
         -- the bulk of the rows, is summed per day directly.
         select user_id, day, sum(millicredits) as payg from entries where kind = 'payg' group by user_id, day
       ), payg as (
         select day, sum(payg) as payg,
           sum(floor(payg_to_date * ?::numeric / 1000000000 + 0.5)
             - floor((payg_to_date - payg) * ?::numeric / 1000000000 + 0.5)) as charge_minor
         from (
           select day, payg, sum(payg) over (partition by user_id order by day) as payg_to_date from payg_member_days
         ) running
         group by day
       )
       select to_char(d.day, 'YYYY-MM-DD') as day,
         coalesce(u.used, 0)::bigint as used,
         coalesce(p.payg, 0)::bigint as payg_credits,
         coalesce(p.charge_minor, 0)::bigint as payg_charge_minor
       from generate_series(?::date, ?::date, interval '1 day') as d(day)
       left join used u on u.day = d.day::date
       left join payg p on p.day = d.day::date
       order by d.day`,
      [
        firstDay,
        lastDay,
        q.teamId,
        new Date(q.period.start),
        ...(q.userId ? [q.userId] : []),
        chargeFactor,
        chargeFactor,
        firstDay,
        lastDay,
      ],
    );
    return (rows as { day: string; used: number; payg_credits: number; payg_charge_minor: number }[]).map((r) => ({
      day: r.day,
      used: r.used,
      paygCredits: r.payg_credits,
      paygChargeMinor: r.payg_charge_minor,
    }));
  }
}

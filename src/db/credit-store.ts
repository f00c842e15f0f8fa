/**
 * The member credits in PostgreSQL: usage rows (what every read is served from), budget leases, the first answer
 * to every request id, and the transactions that keep them and the ledger in step:
 * - `spendFromLease`: the hot path, one consumption from a lease the API holds, in one statement;
 * - `writeRecords`: what the member workflow decided (ledger rows, answers, leases, the usage row), in one;
 * - `closeLeases`: a lease ends; what was spent from it is what its ledger rows say.
 */
import type { Knex } from 'knex';
import type pg from 'pg';
import { ledgerEntryKey } from '../../workflows/member-credits/state';
import type {
  AnswerRecord,
  Balance,
  BudgetLease,
  Charged,
  ConsumeDecision,
  LedgerKind,
  MemberNotificationKind,
  RecordBatch,
  RefusalReason,
  RequestKind,
  ResumedPeriod,
  ReturnedLease,
} from '../../workflows/member-credits/types';

export type { RequestKind };

/** A consumption's whole answer, as the API sends it and a repeat gets it again. */
export interface ConsumeAnswer {
  decision: ConsumeDecision;
  reason?: RefusalReason;
  charged: Charged;
  balance: Balance;
}

export interface PurchaseAnswerRow {
  purchaseId: string;
  millicredits: number;
  amountMinor: number;
  currency: string;
  balance: Balance;
}

export interface ReservationAnswer {
  decision: 'held' | 'refused';
  reason?: RefusalReason;
  held: Charged;
  expiresAt: number;
  balance: Balance;
}

export interface SettleAnswer {
  decision: 'allowed' | 'allowed_payg';
  charged: Charged;
  balance: Balance;
}

export interface ReleaseAnswer {
  released: number;
  how: 'released' | 'expired';
  balance: Balance;
}

export type StoredAnswer =
  | {
      status: 'done';
      fingerprint: string;
      answer: ConsumeAnswer | PurchaseAnswerRow | ReservationAnswer | SettleAnswer | ReleaseAnswer;
    }
  | { status: 'pending'; fingerprint: string };

export interface RequestRef {
  teamId: string;
  userId: string;
  kind: RequestKind;
  requestId: string;
  fingerprint: string;
}

/** A lease-served consumption: written, or why it could not be. */
export type LeaseSpend =
  | { outcome: 'spent'; answer: ConsumeAnswer }
  /** The request id was asked before (answered, or on its way through the workflow). */
  | { outcome: 'seen'; stored: StoredAnswer }
  /** The lease cannot cover it (spent, expired, or taken back by the workflow). */
  | { outcome: 'lease_exhausted' };

/** The usage row as stored (snake_case columns). */
interface UsageRow {
  team_id: string;
  user_id: string;
  period_start: Date;
  period_end: Date;
  allowance: number;
  purchased: number;
  used: number;
  payg_credits: number;
  expired: number;
  payg_charge_minor: number;
  payg_cap_minor: number | null;
  held: number;
  held_payg: number;
  plan_id: string | null;
  currency: string | null;
  payg_enabled: boolean;
  payg_available: boolean;
  notified: MemberNotificationKind[];
  version: number;
}

export interface MemberUsage {
  teamId: string;
  userId: string;
  planId: string | null;
  notified: MemberNotificationKind[];
  balance: Balance;
  expired: number;
  version: number;
}

export interface TeamUsagePage {
  members: {
    userId: string;
    email: string;
    roles: string[];
    /** Billing's PAYG setting for the member (null: never set), for a period nothing was written for yet. */
    paygEnabled: boolean | null;
    paygCapMinor: number | null;
    usage: MemberUsage | null;
  }[];
  nextCursor: string | null;
}

const KIND_COLUMN: Record<LedgerKind, { column: keyof UsageDelta; sign: 1 | -1 }> = {
  grant: { column: 'allowance', sign: 1 },
  adjustment: { column: 'allowance', sign: 1 },
  purchase: { column: 'purchased', sign: 1 },
  consume: { column: 'used', sign: 1 },
  payg: { column: 'payg_credits', sign: 1 },
  expire: { column: 'expired', sign: 1 },
  restore: { column: 'expired', sign: -1 },
};

interface UsageDelta {
  allowance: number;
  purchased: number;
  used: number;
  payg_credits: number;
  expired: number;
}

const UNIQUE_VIOLATION = '23505';

/**
 * The hot path's one statement. Its data-modifying parts all see the same snapshot and run together: the lease
 * gives the credits (only if the request id is new), the usage row takes them and returns itself as it is now,
 * the ledger row and the answer row are written from that. The answer is stored as the spend's facts
 * (`fromLease`: the usage row after it and the split) and read with `leaseAnswer`, so a repeat of the request
 * gets exactly what the first call got. The last select says whether the id was there before the statement.
 * $1 millicredits, $2 lease id, $3 team, $4 user, $5 request id, $6 ledger key, $7 action, $8 workflow id,
 * $9 run id, $10 fingerprint.
 */
const SPEND_FROM_LEASE = `
  with lease as (
    update budget_leases set used = used + $1::bigint
    where lease_id = $2 and status = 'active' and expires_at > now() and used + $1::bigint <= credits
      and not exists (select 1 from request_answers
                      where team_id = $3 and user_id = $4 and kind = 'consume' and request_id = $5)
    returning team_id, user_id, period_start, allowance_credits, used - $1::bigint as used_before
  ), usage as (
    update member_usage u set used = u.used + $1::bigint, updated_at = now()
    from lease
    where u.team_id = lease.team_id and u.user_id = lease.user_id and u.period_start = lease.period_start
    returning u.period_start, u.period_end, u.allowance, u.purchased, u.used, u.payg_credits, u.payg_charge_minor,
      u.payg_cap_minor, u.held, u.held_payg, u.currency, u.payg_enabled, u.payg_available,
      $1::bigint as millicredits,
      least($1::bigint, greatest(0, lease.allowance_credits - lease.used_before)) as from_allowance
  ), ledger as (
    insert into ledger_entries (entry_key, team_id, user_id, period_start, period_end, kind, millicredits,
      request_id, action, workflow_id, run_id, occurred_at, lease_id)
    select $6, $3, $4, usage.period_start, usage.period_end, 'consume', $1::bigint, $5, $7, $8, $9, now(), $2
    from usage
  ), claim as (
    insert into request_answers (team_id, user_id, kind, request_id, fingerprint, status, lease_id, answer)
    select $3, $4, 'consume', $5, $10, 'done', $2, jsonb_build_object('fromLease', to_jsonb(usage)) from usage
    returning answer
  )
  select claim.answer, seen.status as seen_status
  from (select 1) one
  left join claim on true
  left join request_answers seen
    on seen.team_id = $3 and seen.user_id = $4 and seen.kind = 'consume' and seen.request_id = $5`;

/** A lease-served consumption's answer as `SPEND_FROM_LEASE` stores it. */
interface StoredLeaseAnswer {
  fromLease: Omit<BalanceColumns, 'period_start' | 'period_end'> & {
    period_start: string;
    period_end: string;
    millicredits: number;
    from_allowance: number;
  };
}

/** What a consumption served from a lease answers: all from credits, the usage row right after it. */
function leaseAnswer({ fromLease: u }: StoredLeaseAnswer): ConsumeAnswer {
  return {
    decision: 'allowed',
    charged: { allowance: u.from_allowance, purchased: u.millicredits - u.from_allowance, payg: 0 },
    balance: toBalance({ ...u, period_start: new Date(u.period_start), period_end: new Date(u.period_end) }),
  };
}

export class CreditStore {
  constructor(private readonly db: Knex) {}

  // ---- the hot path (API) ----

  /**
   * One consumption from a lease, in one statement (so one transaction and one round trip; prepared once per
   * connection): the lease's spend (bounded by its credits, refused once it is closed or expired, or when the
   * request id was seen before), the usage row, the ledger row carrying the lease id, and the answer row (unique
   * on the request id). Nothing is written unless all of it is: a request id another transaction claimed
   * meanwhile, or a ledger key already written, fails the whole statement on the unique key.
   */
  async spendFromLease(
    lease: BudgetLease,
    request: { requestId: string; action: string; millicredits: number; fingerprint: string },
    workflowId: string,
  ): Promise<LeaseSpend> {
    const ref = { teamId: lease.teamId, userId: lease.userId, kind: 'consume' as const, requestId: request.requestId };
    let rows: { answer: StoredLeaseAnswer | null; seen_status: string | null }[];
    try {
      rows = await this.prepared('spend-from-lease', SPEND_FROM_LEASE, [
        request.millicredits,
        lease.leaseId,
        lease.teamId,
        lease.userId,
        request.requestId,
        ledgerEntryKey({ ...lease, kind: 'consume' }, request.requestId),
        request.action,
        workflowId,
        lease.runId,
        request.fingerprint,
      ]);
    } catch (err) {
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
      rows = [{ answer: null, seen_status: 'raced' }];
    }
    const [r] = rows;
    if (r.answer) return { outcome: 'spent', answer: leaseAnswer(r.answer) };
    if (r.seen_status === null) return { outcome: 'lease_exhausted' };
    const stored = await this.answer(ref);
    // The claim that stopped this one is gone only if it was rolled back meanwhile: ask the workflow.
    return stored ? { outcome: 'seen', stored } : { outcome: 'lease_exhausted' };
  }

  /** A statement prepared once per pooled connection (parsed and planned once, not per call). */
  private async prepared<T>(name: string, text: string, values: unknown[]): Promise<T[]> {
    const client = this.db.client as {
      acquireConnection(): Promise<pg.PoolClient>;
      releaseConnection(c: pg.PoolClient): Promise<void>;
    };
    const connection = await client.acquireConnection();
    try {
      return (await connection.query({ name, text, values })).rows as T[];
    } finally {
      await client.releaseConnection(connection);
    }
  }

  /**
   * Claim a request id for the workflow path: a new id is marked pending (the workflow's records write the answer);
   * one seen before comes back as stored.
   */
  async claim(ref: RequestRef): Promise<StoredAnswer | undefined> {
    const inserted = await this.db('request_answers')
      .insert({
        team_id: ref.teamId,
        user_id: ref.userId,
        kind: ref.kind,
        request_id: ref.requestId,
        fingerprint: ref.fingerprint,
        status: 'pending',
      })
      .onConflict(['team_id', 'user_id', 'kind', 'request_id'])
      .ignore()
      .returning('request_id');
    return inserted.length > 0 ? undefined : this.answer(ref);
  }

  async answer(ref: Omit<RequestRef, 'fingerprint'>): Promise<StoredAnswer | undefined> {
    const row = await this.db('request_answers')
      .where({ team_id: ref.teamId, user_id: ref.userId, kind: ref.kind, request_id: ref.requestId })
      .first('status', 'fingerprint', 'answer');
    if (!row) return undefined;
    return row.status === 'done' && row.answer
      ? { status: 'done', fingerprint: row.fingerprint, answer: storedAnswer(row.answer) }
      : { status: 'pending', fingerprint: row.fingerprint };
  }

  /** The holder gives a lease back: no spend from it after this; returns what was spent. */
  async returnLease(lease: BudgetLease): Promise<ReturnedLease> {
    const [closed] = await this.closeLeases([lease]);
    return closed;
  }

  // ---- the workflow's writes (activities) ----

  /**
   * Close leases (whoever asks first) and report what was spent from each, from the ledger rows that carry its id.
   * The update waits for spends in flight on those leases; the sum is read after it, so it sees them all. A lease
   * whose row is not written yet (the workflow takes it back before its records reached PostgreSQL) is written
   * closed here, so the later write cannot open it: once closed, whatever the order, nothing is spent from it.
   */
  async closeLeases(leases: readonly BudgetLease[]): Promise<ReturnedLease[]> {
    if (leases.length === 0) return [];
    const leaseIds = leases.map((l) => l.leaseId);
    return this.db.transaction(async (trx) => {
      await trx('budget_leases')
        .insert(leases.map((l) => ({ ...leaseRow(l), status: 'closed', closed_at: trx.fn.now() })))
        .onConflict('lease_id')
        .merge({ status: 'closed', closed_at: trx.raw('coalesce(budget_leases.closed_at, now())') });
      const rows: { lease_id: string; spent: number }[] = await trx('ledger_entries')
        .whereIn('lease_id', leaseIds)
        .groupBy('lease_id')
        .select('lease_id', trx.raw('sum(millicredits)::bigint as spent'));
      const spent = new Map(rows.map((r) => [r.lease_id, r.spent]));
      return leaseIds.map((leaseId) => ({ leaseId, used: spent.get(leaseId) ?? 0 }));
    });
  }

  /**
   * Everything a member workflow decided since its last write, in one transaction: ledger rows (by their keys, so a
   * retry writes nothing twice), the usage rows they change, leases, and the answers, each completed with the
   * balance of its period as written.
   */
  async writeRecords(
    batch: RecordBatch,
    source: { workflowId: string; runId: string },
    /** More to write in the same transaction (the webhook events decided with these records). */
    alsoWrite?: (trx: Knex.Transaction) => Promise<void>,
  ): Promise<void> {
    await this.db.transaction(async (trx) => {
      const deltas = new Map<
        string,
        { teamId: string; userId: string; periodStart: number; periodEnd: number } & UsageDelta
      >();
      const touch = (teamId: string, userId: string, periodStart: number, periodEnd: number) => {
        const k = `${teamId}/${userId}/${periodStart}`;
        let d = deltas.get(k);
        if (!d)
          deltas.set(
            k,
            (d = {
              teamId,
              userId,
              periodStart,
              periodEnd,
              allowance: 0,
              purchased: 0,
              used: 0,
              payg_credits: 0,
              expired: 0,
            }),
          );
        return d;
      };
      if (batch.entries.length > 0) {
        const inserted: { entry_key: string }[] = await trx('ledger_entries')
          .insert(
            batch.entries.map((e) => ({
              entry_key: e.entryKey,
              team_id: e.teamId,
              user_id: e.userId,
              period_start: new Date(e.periodStart),
              period_end: new Date(e.periodEnd),
              kind: e.kind,
              millicredits: e.millicredits,
              amount_minor: e.amountMinor ?? null,
              currency: e.currency ?? null,
              request_id: e.requestId ?? null,
              action: e.action ?? null,
              workflow_id: source.workflowId,
              run_id: source.runId,
              occurred_at: new Date(e.occurredAt),
            })),
          )
          .onConflict('entry_key')
          .ignore()
          .returning('entry_key');
        // Only rows new to the ledger move the usage row: a retried write changes nothing.
        const fresh = new Set(inserted.map((r) => r.entry_key));
        for (const e of batch.entries) {
          if (!fresh.has(e.entryKey)) continue;
          const { column, sign } = KIND_COLUMN[e.kind];
          touch(e.teamId, e.userId, e.periodStart, e.periodEnd)[column] += sign * e.millicredits;
        }
      }
      for (const h of batch.headers) touch(h.teamId, h.userId, h.periodStart, h.periodEnd);
      for (const d of deltas.values()) {
        const h = batch.headers.find(
          (x) => x.teamId === d.teamId && x.userId === d.userId && x.periodStart === d.periodStart,
        );
        await trx.raw(
          `insert into member_usage as u (team_id, user_id, period_start, period_end, allowance, purchased, used,
             payg_credits, expired, plan_id, currency, payg_enabled, payg_available, payg_charge_minor, payg_cap_minor,
             held, held_payg, notified, version)
           values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::text[], ?)
           on conflict (team_id, user_id, period_start) do update set
             allowance = u.allowance + excluded.allowance,
             purchased = u.purchased + excluded.purchased,
             used = u.used + excluded.used,
             payg_credits = u.payg_credits + excluded.payg_credits,
             expired = u.expired + excluded.expired,
             plan_id = case when excluded.version > u.version then excluded.plan_id else u.plan_id end,
             currency = case when excluded.version > u.version then excluded.currency else u.currency end,
             payg_enabled = case when excluded.version > u.version then excluded.payg_enabled else u.payg_enabled end,
             payg_available = case when excluded.version > u.version then excluded.payg_available else u.payg_available end,
             payg_charge_minor = case when excluded.version > u.version then excluded.payg_charge_minor else u.payg_charge_minor end,
             payg_cap_minor = case when excluded.version > u.version then excluded.payg_cap_minor else u.payg_cap_minor end,
             held = case when excluded.version > u.version then excluded.held else u.held end,
             held_payg = case when excluded.version > u.version then excluded.held_payg else u.held_payg end,
             notified = case when excluded.version > u.version then excluded.notified else u.notified end,
             version = greatest(u.version, excluded.version),
             updated_at = now()`,
          [
            d.teamId,
            d.userId,
            new Date(d.periodStart),
            new Date(d.periodEnd),
            d.allowance,
            d.purchased,
            d.used,
            d.payg_credits,
            d.expired,
            h?.planId ?? null,
            h?.currency ?? null,
            h?.paygEnabled ?? false,
            h?.paygAvailable ?? false,
            h?.paygChargeMinor ?? 0,
            h?.paygCapMinor ?? null,
            h?.held ?? 0,
            h?.heldPayg ?? 0,
            h?.notified ?? [],
            h?.version ?? 0,
          ],
        );
      }
      if (batch.leases.length > 0) {
        // A lease closed before this write (taken back while its row was still on its way) stays closed.
        await trx('budget_leases').insert(batch.leases.map(leaseRow)).onConflict('lease_id').ignore();
      }
      if (batch.answers.length > 0) await this.writeAnswers(trx, batch, source);
      if (alsoWrite) await alsoWrite(trx);
    });
  }

  private async writeAnswers(trx: Knex.Transaction, batch: RecordBatch, source: { workflowId: string }): Promise<void> {
    const { teamId, userId } = batch.headers[batch.headers.length - 1];
    const periods = [...new Set(batch.answers.map((a) => a.periodStart))];
    const rows: UsageRow[] = await trx('member_usage')
      .where({ team_id: teamId, user_id: userId })
      .whereIn(
        'period_start',
        periods.map((p) => new Date(p)),
      );
    const balances = new Map(rows.map((r) => [r.period_start.getTime(), toBalance(r)]));
    let expiredHolds = 0;
    for (const a of batch.answers) {
      const balance = balances.get(a.periodStart);
      if (!balance) throw new Error(`no usage row for ${source.workflowId} period ${a.periodStart}`);
      // A row comes back when this write decided it (new, or a claim made pending by the API): a retried batch
      // counts nothing twice.
      const { rows } = await trx.raw(
        `insert into request_answers as r (team_id, user_id, kind, request_id, fingerprint, status, answer)
         values (?, ?, ?, ?, ?, 'done', ?)
         on conflict (team_id, user_id, kind, request_id) do update
           set status = 'done', answer = excluded.answer, fingerprint = excluded.fingerprint
           where r.status = 'pending'
         returning 1`,
        [teamId, userId, a.kind, a.requestId, a.fingerprint, JSON.stringify(answerWithBalance(a, balance))],
      );
      if (rows.length > 0 && a.kind === 'release' && (a.answer as { how?: string }).how === 'expired') expiredHolds++;
    }
    if (expiredHolds > 0) {
      await trx('service_counters').where({ name: 'reservations_expired' }).increment('value', expiredHolds);
    }
  }

  /** Holds the member workflows released at their expiry so far, all members (`/metrics`). */
  async reservationsExpired(): Promise<number> {
    const row = await this.db('service_counters').where({ name: 'reservations_expired' }).first('value');
    return Number(row?.value ?? 0);
  }

  // ---- reads ----

  /** The member's usage row of the period starting at `periodStart`, if any was written. */
  async usage(teamId: string, userId: string, periodStart: number): Promise<MemberUsage | undefined> {
    const row = await this.db<UsageRow>('member_usage')
      .where({ team_id: teamId, user_id: userId, period_start: new Date(periodStart) })
      .first();
    return row ? toUsage(row) : undefined;
  }

  /** What a run resuming this period starts from (a member removed and added again in the same period). */
  async resumable(teamId: string, userId: string, periodStart: number): Promise<ResumedPeriod | undefined> {
    const u = await this.usage(teamId, userId, periodStart);
    if (!u) return undefined;
    return {
      periodStart,
      allowance: u.balance.allowance,
      purchased: u.balance.purchased,
      used: u.balance.used,
      paygCredits: u.balance.paygCredits,
      expired: u.expired,
      notified: u.notified,
      version: u.version,
    };
  }

  /**
   * One page of a team's active members with their usage of the period starting at `periodStart`, in user id
   * order, optionally only those whose id or email contains `q`. One query, whatever the team's size.
   */
  async teamUsage(
    teamId: string,
    periodStart: number,
    page: { limit: number; cursor?: string; q?: string },
  ): Promise<TeamUsagePage> {
    const q = this.db('members as m')
      .leftJoin('member_usage as u', function () {
        this.on('u.team_id', 'm.team_id')
          .andOn('u.user_id', 'm.user_id')
          .andOnVal('u.period_start', new Date(periodStart));
      })
      .where({ 'm.team_id': teamId, 'm.status': 'active' })
      .orderBy('m.user_id')
      .limit(page.limit + 1)
      .select(
        'm.user_id as member_user_id',
        'm.email',
        'm.roles',
        'm.payg_enabled as member_payg_enabled',
        'm.payg_cap_minor as member_payg_cap_minor',
        'u.*',
      );
    if (page.cursor) q.andWhere('m.user_id', '>', page.cursor);
    if (page.q) {
      const like = `%${page.q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
      q.andWhere((w) => w.whereILike('m.user_id', like).orWhereILike('m.email', like));
    }
    const rows = (await q) as (UsageRow & {
      member_user_id: string;
      email: string;
      roles: string[];
      member_payg_enabled: boolean | null;
      member_payg_cap_minor: number | null;
    })[];
    const more = rows.length > page.limit;
    const shown = rows.slice(0, page.limit);
    return {
      members: shown.map((r) => ({
        userId: r.member_user_id,
        email: r.email,
        roles: r.roles,
        paygEnabled: r.member_payg_enabled,
        paygCapMinor: r.member_payg_cap_minor,
        usage: r.period_start ? toUsage(r) : null,
      })),
      nextCursor: more ? shown[shown.length - 1].member_user_id : null,
    };
  }

  /**
   * Raise (or lower) a member's claim on the team's PAYG cap. Under the team row's lock, a raise is granted only
   * while every member's claim together stays within the cap; a lower claim always is. An older claim (a late
   * retry) never overwrites a newer one. Returns the cap when it refused.
   */
  async claimTeamPayg(claim: {
    teamId: string;
    userId: string;
    periodStart: number;
    claimMinor: number;
    seq: number;
  }): Promise<{ granted: boolean; capMinor: number | null }> {
    return this.db.transaction(async (trx) => {
      const team = await trx('teams').where('team_id', claim.teamId).forUpdate().first('payg_cap_minor');
      const capMinor: number | null = team?.payg_cap_minor ?? null;
      const where = { team_id: claim.teamId, period_start: new Date(claim.periodStart) };
      const mine = await trx('team_payg_claims')
        .where({ ...where, user_id: claim.userId })
        .first('claim_minor', 'seq');
      if (mine && mine.seq >= claim.seq) return { granted: true, capMinor }; // already applied (a retry)
      if (capMinor !== null && claim.claimMinor > (mine?.claim_minor ?? 0)) {
        const [{ others }] = await trx('team_payg_claims')
          .where(where)
          .andWhereNot('user_id', claim.userId)
          .sum({ others: 'claim_minor' });
        if (Number(others ?? 0) + claim.claimMinor > capMinor) return { granted: false, capMinor };
      }
      await trx('team_payg_claims')
        .insert({ ...where, user_id: claim.userId, claim_minor: claim.claimMinor, seq: claim.seq })
        .onConflict(['team_id', 'period_start', 'user_id'])
        .merge({ claim_minor: claim.claimMinor, seq: claim.seq, updated_at: trx.fn.now() });
      return { granted: true, capMinor };
    });
  }

  /** The team's PAYG charges of a period, each member's at the rates it was spent at (removed members included). */
  async teamPaygChargeMinor(teamId: string, periodStart: number): Promise<number> {
    const [{ total }] = await this.db('member_usage')
      .where({ team_id: teamId, period_start: new Date(periodStart) })
      .sum({ total: 'payg_charge_minor' });
    return Number(total ?? 0);
  }

  /** PAYG accrued this period by the team's active members, not yet on an invoice (it is posted at the period end). */
  async accruingPayg(
    teamId: string,
    periodStart: number,
  ): Promise<{ userId: string; paygCredits: number; amountMinor: number }[]> {
    const rows = await this.db('member_usage as u')
      .join('members as m', function () {
        this.on('m.team_id', 'u.team_id').andOn('m.user_id', 'u.user_id');
      })
      .where({ 'u.team_id': teamId, 'u.period_start': new Date(periodStart), 'm.status': 'active' })
      .andWhere('u.payg_credits', '>', 0)
      .orderBy('u.user_id')
      .select('u.user_id', 'u.payg_credits', 'u.payg_charge_minor');
    return rows.map((r: { user_id: string; payg_credits: number; payg_charge_minor: number }) => ({
      userId: r.user_id,
      paygCredits: r.payg_credits,
      amountMinor: r.payg_charge_minor,
    }));
  }

  /** The active leases of a member (for the reconciliation check). */
  async activeLeases(teamId: string, userId: string): Promise<{ leaseId: string; used: number }[]> {
    const rows = await this.db('budget_leases')
      .where({ team_id: teamId, user_id: userId, status: 'active' })
      .select('lease_id', 'used');
    return rows.map((r: { lease_id: string; used: number }) => ({ leaseId: r.lease_id, used: r.used }));
  }
}

function toUsage(r: UsageRow): MemberUsage {
  return {
    teamId: r.team_id,
    userId: r.user_id,
    planId: r.plan_id,
    notified: r.notified ?? [],
    balance: toBalance(r),
    expired: r.expired,
    version: r.version,
  };
}

/** The columns a balance is made of. */
type BalanceColumns = Pick<
  UsageRow,
  | 'period_start'
  | 'period_end'
  | 'allowance'
  | 'purchased'
  | 'used'
  | 'payg_credits'
  | 'payg_charge_minor'
  | 'payg_cap_minor'
  | 'held'
  | 'held_payg'
  | 'currency'
  | 'payg_enabled'
  | 'payg_available'
>;

export function toBalance(r: BalanceColumns): Balance {
  // Only what reservations hold of the credits leaves `remaining`; their PAYG part is not taken from it.
  const remaining = r.allowance + r.purchased - r.used - (r.held - r.held_payg);
  return {
    periodStart: r.period_start.getTime(),
    periodEnd: r.period_end.getTime(),
    allowance: r.allowance,
    purchased: r.purchased,
    used: r.used,
    remaining,
    paygEnabled: r.payg_enabled,
    paygAvailable: r.payg_available,
    paygCredits: r.payg_credits,
    paygChargeMinor: r.payg_charge_minor,
    paygCapMinor: r.payg_cap_minor,
    held: r.held,
    currency: r.currency ?? 'USD',
    paused: remaining <= 0 && !(r.payg_available && r.payg_enabled),
  };
}

/** A stored answer as the API sends it: a lease-served consumption's facts become its answer. */
function storedAnswer(answer: object): Extract<StoredAnswer, { status: 'done' }>['answer'] {
  return 'fromLease' in answer ? leaseAnswer(answer as StoredLeaseAnswer) : (answer as ConsumeAnswer);
}

function answerWithBalance(a: AnswerRecord, balance: Balance) {
  return { ...a.answer, balance };
}

/** A lease as its `budget_leases` row. */
function leaseRow(l: BudgetLease) {
  return {
    lease_id: l.leaseId,
    team_id: l.teamId,
    user_id: l.userId,
    period_start: new Date(l.periodStart),
    holder: l.holder,
    credits: l.credits,
    allowance_credits: l.allowanceCredits,
    expires_at: new Date(l.expiresAt),
  };
}

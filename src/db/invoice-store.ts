import type { Knex } from 'knex';
import type { ChargeKind, InvoiceCharge } from '../../workflows/member-credits/types';

export type InvoiceStatus = 'open' | 'finalized';

export interface InvoiceLine {
  id: number;
  lineKey: string;
  userId: string;
  kind: ChargeKind;
  periodStart: number;
  periodEnd: number;
  millicredits: number;
  rateMicrosPerCredit: number;
  amountMinor: number;
  currency: string;
  description: string;
  postedAt: number;
}

export interface Invoice {
  invoiceId: string;
  teamId: string;
  sequence: number;
  status: InvoiceStatus;
  currency: string;
  totalMinor: number;
  openedAt: number;
  finalizedAt: number | null;
}

export interface InvoiceWithLines extends Invoice {
  lines: InvoiceLine[];
}

interface InvoiceRow {
  id: number;
  finalize_key: string | null;
  team_id: string;
  sequence: number;
  status: InvoiceStatus;
  currency: string;
  total_minor: number;
  opened_at: Date;
  finalized_at: Date | null;
}

/**
 * Invoices and their lines. Each team has at most one open invoice (a partial unique index); a charge goes
 * on whichever invoice is open when it is posted, so a charge that arrives after finalization lands on the
 * next invoice. The line key makes posting idempotent.
 */
export class InvoiceStore {
  constructor(private readonly db: Knex) {}

  /** Post charges; returns how many were new. */
  async postCharges(charges: readonly InvoiceCharge[]): Promise<number> {
    let posted = 0;
    for (const charge of charges) {
      posted += await this.db.transaction(async (trx) => {
        const existing = await trx('invoice_lines').where('line_key', charge.chargeKey).first('id');
        if (existing) return 0;
        const invoice = await this.lockOpenInvoice(trx, charge.teamId, charge.currency);
        const inserted = await trx('invoice_lines')
          .insert({
            invoice_id: invoice.id,
            line_key: charge.chargeKey,
            team_id: charge.teamId,
            user_id: charge.userId,
            kind: charge.kind,
            period_start: new Date(charge.periodStart),
            period_end: new Date(charge.periodEnd),
            millicredits: charge.millicredits,
            rate_micros_per_credit: charge.rateMicrosPerCredit,
            amount_minor: charge.amountMinor,
            currency: charge.currency,
            description: charge.description,
            occurred_at: new Date(charge.occurredAt),
          })
          .onConflict('line_key')
          .ignore()
          .returning('id');
        if (inserted.length === 0) return 0;
        await trx('invoices').where('id', invoice.id).increment('total_minor', charge.amountMinor);
        return 1;
      });
    }
    return posted;
  }

  /**
   * Finalize the team's open invoice (idempotent by key) and open the next one. Returns the finalized
   * invoice, or the one finalized earlier under the same key.
   */
  async finalizeOpenInvoice(teamId: string, currency: string, finalizeKey: string): Promise<Invoice | null> {
    return this.db.transaction(async (trx) => {
      const done = await trx<InvoiceRow>('invoices').where('finalize_key', finalizeKey).first();
      if (done) return toInvoice(done);
      const open = await this.lockOpenInvoice(trx, teamId, currency);
      const [row] = await trx<InvoiceRow>('invoices')
        .where('id', open.id)
        .update({ status: 'finalized', finalized_at: trx.fn.now(), finalize_key: finalizeKey })
        .returning('*');
      await this.lockOpenInvoice(trx, teamId, currency);
      return toInvoice(row);
    });
  }

  async list(teamId: string): Promise<Invoice[]> {
    const rows = await this.db<InvoiceRow>('invoices').where('team_id', teamId).orderBy('sequence', 'desc');
    return rows.map(toInvoice);
  }

  /** Newest first, a page at a time: `before` is the sequence of the previous page's last invoice. */
  async page(
    teamId: string,
    opts: { before?: number; limit: number },
  ): Promise<{ invoices: Invoice[]; next: number | null }> {
    const q = this.db<InvoiceRow>('invoices')
      .where('team_id', teamId)
      .orderBy('sequence', 'desc')
      .limit(opts.limit + 1);
    if (opts.before !== undefined) q.andWhere('sequence', '<', opts.before);
    const rows = await q;
    const invoices = rows.slice(0, opts.limit).map(toInvoice);
    return { invoices, next: rows.length > opts.limit ? invoices[invoices.length - 1].sequence : null };
  }

  async get(teamId: string, invoiceId: string): Promise<InvoiceWithLines | null> {
    if (!/^\d{1,15}$/.test(invoiceId)) return null;
    const row = await this.db<InvoiceRow>('invoices')
      .where({ team_id: teamId, id: Number(invoiceId) })
      .first();
    if (!row) return null;
    const lines = await this.db('invoice_lines').where('invoice_id', row.id).orderBy('id');
    return {
      ...toInvoice(row),
      lines: lines.map((l) => ({
        id: l.id,
        lineKey: l.line_key,
        userId: l.user_id,
        kind: l.kind,
        periodStart: l.period_start.getTime(),
        periodEnd: l.period_end.getTime(),
        millicredits: l.millicredits,
        rateMicrosPerCredit: l.rate_micros_per_credit,
        amountMinor: l.amount_minor,
        currency: l.currency,
        description: l.description,
        postedAt: l.posted_at.getTime(),
      })),
    };
  }

  /** The team's open invoice, created when missing, row-locked for the rest of the transaction. */
  private async lockOpenInvoice(trx: Knex.Transaction, teamId: string, currency: string): Promise<InvoiceRow> {
    for (;;) {
      const open = await trx<InvoiceRow>('invoices').where({ team_id: teamId, status: 'open' }).forUpdate().first();
      if (open) return open;
      const last = await trx('invoices').where('team_id', teamId).max('sequence as seq').first();
      await trx.raw(
        `insert into invoices (team_id, sequence, status, currency) values (?, ?, 'open', ?) on conflict do nothing`,
        [teamId, Number(last?.seq ?? 0) + 1, currency],
      );
    }
  }
}

function toInvoice(r: InvoiceRow): Invoice {
  return {
    invoiceId: String(r.id),
    teamId: r.team_id,
    sequence: r.sequence,
    status: r.status,
    currency: r.currency,
    totalMinor: r.total_minor,
    openedAt: r.opened_at.getTime(),
    finalizedAt: r.finalized_at ? r.finalized_at.getTime() : null,
  };
}

export interface TeamBillingInput {
  teamId: string;
  billingAnchorDay: number;
  currency: string;
  /** How long after each billing date the invoice stays open for the closing period's charges. */
  invoiceGraceMs: number;
  /** Start of the period this run closes (set by continue-as-new; a first run uses the period containing now). */
  periodStart?: number;
}

export interface TeamBillingView {
  teamId: string;
  periodStart: number;
  periodEnd: number;
  /** When this run finalizes the team's open invoice. */
  invoiceFinalizesAt: number;
  finalizedInvoices: number;
}

export interface FinalizeInvoiceInput {
  teamId: string;
  currency: string;
  finalizeKey: string;
  periodStart: number;
  periodEnd: number;
}

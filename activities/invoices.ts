import type { InvoiceCharge } from '../workflows/member-credits/types';
import type { FinalizeInvoiceInput } from '../workflows/team-billing/types';
import type { ActivityDeps } from './deps';

export interface PostInvoiceChargesInput {
  charges: InvoiceCharge[];
}

export function createInvoiceActivities(deps: ActivityDeps) {
  return {
    /** Post charges to the team's open invoice; a charge already posted (by its key) is not posted again. */
    async postInvoiceCharges({ charges }: PostInvoiceChargesInput): Promise<{ posted: number }> {
      return { posted: await deps.invoices.postCharges(charges) };
    },

    /** Finalize the team's open invoice once per billing date (the key makes a retry a no-op). */
    async finalizeInvoice(input: FinalizeInvoiceInput): Promise<{ invoiceId: string | null; totalMinor: number }> {
      const invoice = await deps.invoices.finalizeOpenInvoice(input.teamId, input.currency, input.finalizeKey);
      return { invoiceId: invoice?.invoiceId ?? null, totalMinor: invoice?.totalMinor ?? 0 };
    },
  };
}

import type { InvoiceCharge } from '../workflows/member-credits/types';
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
  };
}

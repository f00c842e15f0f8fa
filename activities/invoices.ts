import { invoiceFinalizedEventRecord } from '../src/webhooks/events';
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

    /**
     * Finalize the team's open invoice once per billing date (the key makes a retry a no-op), and tell the team's
     * webhooks (`invoice.finalized`, stored once by its key).
     */
    async finalizeInvoice(input: FinalizeInvoiceInput): Promise<{ invoiceId: string | null; totalMinor: number }> {
      const invoice = await deps.invoices.finalizeOpenInvoice(input.teamId, input.currency, input.finalizeKey);
      if (invoice?.finalizedAt) {
        const deliveryIds = await deps.webhooks.recordEvents([
          invoiceFinalizedEventRecord({ ...invoice, finalizedAt: invoice.finalizedAt }),
        ]);
        await deps.deliveries.start(deliveryIds);
      }
      return { invoiceId: invoice?.invoiceId ?? null, totalMinor: invoice?.totalMinor ?? 0 };
    },
  };
}

/**
 * One run per team per billing period: at the billing date plus a grace window, finalize the team's open
 * invoice (which by then holds the closing period's PAYG charges, posted by the member workflows at the
 * billing date) and continue as new for the next period. A charge that arrives later lands on the next
 * invoice, because charges always go to whichever invoice is open.
 *
 * The team's running PAYG total (for the Billing threshold email) is aggregated in PostgreSQL by the ledger
 * activity, where the rows already are, rather than by signalling this workflow on every PAYG consumption.
 */
import { continueAsNew, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { MemberActivities } from '../../activities';
import { periodContaining, periodKey } from '../domain/periods';
import { teamBillingQuery } from './messages';
import type { TeamBillingInput } from './types';

const { finalizeInvoice } = proxyActivities<MemberActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function teamBillingWorkflow(input: TeamBillingInput): Promise<never> {
  const period = periodContaining(input.periodStart ?? Date.now(), input.billingAnchorDay);
  const finalizesAt = period.end + input.invoiceGraceMs;
  let finalized = 0;
  setHandler(teamBillingQuery, () => ({
    teamId: input.teamId,
    periodStart: period.start,
    periodEnd: period.end,
    invoiceFinalizesAt: finalizesAt,
    finalizedInvoices: finalized,
  }));

  await sleep(Math.max(0, finalizesAt - Date.now()));
  await finalizeInvoice({
    teamId: input.teamId,
    currency: input.currency,
    finalizeKey: `${input.teamId}:${periodKey(period)}`,
    periodStart: period.start,
    periodEnd: period.end,
  });
  finalized++;
  return continueAsNew<typeof teamBillingWorkflow>({ ...input, periodStart: period.end });
}

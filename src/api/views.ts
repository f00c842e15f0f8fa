/** The API's JSON shapes of domain values: decimal-string credits, ISO times, money objects. */
import { CreditsFormatError, formatCredits, parseCreditAmount } from '../../workflows/domain/credits';
import type { PlanTerms } from '../../workflows/domain/plans';
import type { Balance } from '../../workflows/member-credits/types';
import { badRequest } from '../errors';

export const iso = (ms: number) => new Date(ms).toISOString();

/** Credits from a request body, as millicredits; a malformed amount is a 400. */
export function parseAmount(input: unknown, max?: number, allowZero = false): number {
  try {
    return parseCreditAmount(input, { allowZero, ...(max === undefined ? {} : { max }) });
  } catch (err) {
    if (err instanceof CreditsFormatError || err instanceof RangeError) throw badRequest(err.message);
    throw err;
  }
}

export function balanceView(b: Balance) {
  return {
    periodStart: iso(b.periodStart),
    periodEnd: iso(b.periodEnd),
    allowance: formatCredits(b.allowance),
    purchased: formatCredits(b.purchased),
    used: formatCredits(b.used),
    remaining: formatCredits(b.remaining),
    paygEnabled: b.paygEnabled,
    paygAvailable: b.paygAvailable,
    paygCredits: formatCredits(b.paygCredits),
    paygCharge: { amountMinor: b.paygChargeMinor, currency: b.currency },
    paygCap: b.paygCapMinor === null ? null : { amountMinor: b.paygCapMinor, currency: b.currency },
    held: formatCredits(b.held),
    paused: b.paused,
  };
}

export function planTermsView(plan: PlanTerms) {
  return {
    planId: plan.planId,
    monthlyAllowance: formatCredits(plan.monthlyAllowance),
    paygAvailable: plan.paygAvailable,
    paygRateMicrosPerCredit: plan.paygRateMicrosPerCredit,
    purchasesAllowed: plan.purchasesAllowed,
    purchaseRateMicrosPerCredit: plan.purchaseRateMicrosPerCredit,
    maxPurchaseCredits: formatCredits(plan.maxPurchase),
    maxCreditsPerAction: formatCredits(plan.maxCreditsPerAction),
    currency: plan.currency,
    currencyExponent: plan.currencyExponent,
  };
}

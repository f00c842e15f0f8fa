import type { PlanTerms } from '../../workflows/domain/plans';

/** A paid plan with round numbers for tests: 100 credits, PAYG at $0.04, purchases at $0.03. */
export const paidPlan: PlanTerms = {
  planId: 'basic',
  monthlyAllowance: 100_000,
  paygAvailable: true,
  paygRateMicrosPerCredit: 40_000,
  purchasesAllowed: true,
  purchaseRateMicrosPerCredit: 30_000,
  currency: 'USD',
  currencyExponent: 2,
  maxCreditsPerAction: 200_000,
  maxPurchase: 100_000_000,
};

export const freePlan: PlanTerms = {
  ...paidPlan,
  planId: 'free',
  monthlyAllowance: 50_000,
  paygAvailable: false,
  paygRateMicrosPerCredit: 0,
  purchasesAllowed: false,
  purchaseRateMicrosPerCredit: 0,
};

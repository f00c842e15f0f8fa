import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCredits } from '../workflows/domain/credits';
import type { PlanTerms } from '../workflows/domain/plans';

interface PlanFile {
  currency: string;
  currencyExponent: number;
  plans: Record<
    string,
    {
      monthlyAllowanceCredits: string;
      paygAvailable: boolean;
      paygRateMicrosPerCredit: number;
      purchasesAllowed: boolean;
      purchaseRateMicrosPerCredit: number;
      maxCreditsPerAction: string;
      maxPurchaseCredits: string;
    }
  >;
}

/**
 * A change to `to` is an upgrade, applied at once, when it gives more credits a month than `from`; any other change
 * (fewer or as many credits) takes effect at the next billing date, so nothing promised for the current period
 * shrinks (spec §16).
 */
export function isUpgrade(from: PlanTerms, to: PlanTerms): boolean {
  return to.monthlyAllowance > from.monthlyAllowance;
}

/** The plan catalogue: configuration (`config/plans.json`, or `PLANS_FILE`), validated once at start-up. */
export class PlanCatalogue {
  private readonly plans = new Map<string, PlanTerms>();

  constructor(file: PlanFile) {
    for (const [planId, p] of Object.entries(file.plans)) {
      const rates = [p.paygRateMicrosPerCredit, p.purchaseRateMicrosPerCredit];
      if (!rates.every((r) => Number.isSafeInteger(r) && r >= 0)) {
        throw new Error(`plan ${planId}: rates must be non-negative integers (micro-units per credit)`);
      }
      this.plans.set(planId, {
        planId,
        monthlyAllowance: parseCredits(p.monthlyAllowanceCredits),
        paygAvailable: p.paygAvailable,
        paygRateMicrosPerCredit: p.paygAvailable ? p.paygRateMicrosPerCredit : 0,
        purchasesAllowed: p.purchasesAllowed,
        purchaseRateMicrosPerCredit: p.purchaseRateMicrosPerCredit,
        currency: file.currency,
        currencyExponent: file.currencyExponent,
        maxCreditsPerAction: parseCredits(p.maxCreditsPerAction),
        maxPurchase: parseCredits(p.maxPurchaseCredits),
      });
    }
  }

  static load(file = process.env.PLANS_FILE ?? path.join(__dirname, '..', 'config', 'plans.json')): PlanCatalogue {
    return new PlanCatalogue(JSON.parse(readFileSync(file, 'utf8')) as PlanFile);
  }

  get(planId: string): PlanTerms | undefined {
    return this.plans.get(planId);
  }

  ids(): string[] {
    return [...this.plans.keys()];
  }

  get currency(): string {
    return [...this.plans.values()][0]?.currency ?? 'USD';
  }
}

export interface PlanUpgradeInput {
  teamId: string;
  /** Also in the audit trail and in each member's `adjustment` ledger row. */
  changeId: string;
  fromPlanId: string;
  toPlanId: string;
}

export interface PlanUpgradeResult {
  /** Members whose running period took the upgrade (the others start on the new plan when they start). */
  applied: number;
}

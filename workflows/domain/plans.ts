/**
 * Plan terms as the member workflow sees them. The catalogue itself is configuration
 * (`config/plans.json`, loaded by `src/plans.ts`); a snapshot of one plan travels in the workflow input so
 * workflow code never reads files.
 */
export interface PlanTerms {
  planId: string;
  /** Monthly allowance per member, millicredits. */
  monthlyAllowance: number;
  paygAvailable: boolean;
  /** PAYG price in micro-units of the currency per credit (0 when PAYG is unavailable). */
  paygRateMicrosPerCredit: number;
  purchasesAllowed: boolean;
  /** Price of purchased credits in micro-units of the currency per credit. */
  purchaseRateMicrosPerCredit: number;
  currency: string;
  /** Decimal places of the currency's minor unit (2 for USD). */
  currencyExponent: number;
  /** Largest single agent action, millicredits. */
  maxCreditsPerAction: number;
  /** Largest single credit purchase, millicredits. */
  maxPurchase: number;
}

/** The AI-powered actions Agent Mode may bill. Unknown actions are rejected before they reach history. */
export const AGENT_ACTIONS = [
  'generate_request',
  'refine_request',
  'write_tests',
  'create_documentation',
  'explain_response',
  'debug_request',
  'generate_collection',
  'chat',
] as const;
export type AgentAction = (typeof AGENT_ACTIONS)[number];

export function isAgentAction(value: unknown): value is AgentAction {
  return typeof value === 'string' && (AGENT_ACTIONS as readonly string[]).includes(value);
}

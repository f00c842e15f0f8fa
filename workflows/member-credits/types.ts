/**
 * Plain-JSON types shared by the member workflow, its activities, the API and the tests.
 * Times are epoch milliseconds (UTC); credits are integer millicredits; money is integer minor units.
 */
import type { PlanTerms } from '../domain/plans';

export type LedgerKind = 'grant' | 'consume' | 'payg' | 'purchase' | 'expire' | 'adjustment';

export interface LedgerEntry {
  /** Unique key: every retry or replay of the same write meets it in PostgreSQL and writes nothing. */
  entryKey: string;
  teamId: string;
  userId: string;
  periodStart: number;
  periodEnd: number;
  kind: LedgerKind;
  millicredits: number;
  amountMinor?: number;
  currency?: string;
  requestId?: string;
  action?: string;
  occurredAt: number;
}

export type ChargeKind = 'payg' | 'purchase';

export interface InvoiceCharge {
  /** Unique key of the invoice line: a charge is posted once, whatever the retries. */
  chargeKey: string;
  teamId: string;
  userId: string;
  kind: ChargeKind;
  periodStart: number;
  periodEnd: number;
  millicredits: number;
  rateMicrosPerCredit: number;
  amountMinor: number;
  currency: string;
  description: string;
  occurredAt: number;
}

export type MemberNotificationKind = 'member_75' | 'member_100' | 'member_exceeded';

export interface MemberNotification {
  /** Unique per member, period and kind: at most one per period, whatever the retries. */
  notificationKey: string;
  teamId: string;
  userId: string;
  kind: MemberNotificationKind;
  periodStart: number;
  periodEnd: number;
  usedMillicredits: number;
  totalMillicredits: number;
  /** For `member_100`: whether usage now continues with PAYG (true) or pauses (false). */
  continuesWithPayg: boolean;
  occurredAt: number;
}

export interface Balance {
  periodStart: number;
  periodEnd: number;
  /** This period's monthly allowance. */
  allowance: number;
  /** Credits bought this period. */
  purchased: number;
  /** Credits spent from allowance and purchases (PAYG excluded). */
  used: number;
  /** allowance + purchased − used. */
  remaining: number;
  paygEnabled: boolean;
  paygAvailable: boolean;
  /** Credits consumed beyond the period's credits, billed at the plan's rate. */
  paygCredits: number;
  /** What the PAYG credits cost so far, rounded half-up once (as the invoice will). */
  paygChargeMinor: number;
  currency: string;
  paused: boolean;
}

export interface ConsumeInput {
  requestId: string;
  action: string;
  millicredits: number;
  /**
   * Keys of `consume` ledger entries the caller has already written through (see `ConsumeResult.writeThrough`):
   * the workflow drops them from its outbox instead of writing them again. Only a saving: an entry never
   * acknowledged is written by the workflow's own activity, with the same key.
   */
  writtenThrough?: string[];
}

export type ConsumeDecision = 'allowed' | 'allowed_payg' | 'refused';
export type RefusalReason = 'paused' | 'insufficient_credits';

export interface ConsumeResult {
  requestId: string;
  decision: ConsumeDecision;
  reason?: RefusalReason;
  /** How the action was paid for, millicredits. */
  charged: { allowance: number; purchased: number; payg: number };
  balance: Balance;
  /** True when this answer is a repeat of an earlier request with the same id. */
  duplicate: boolean;
  /**
   * The ledger entries this decision created, for the caller to write at once (the decision is committed when
   * the Update answers). Absent on refusals and repeats, and never part of the API's response.
   */
  writeThrough?: { runId: string; entries: LedgerEntry[] };
}

export interface SetPaygInput {
  enabled: boolean;
}

export interface PurchaseInput {
  purchaseId: string;
  millicredits: number;
}

export interface PurchaseResult {
  purchaseId: string;
  millicredits: number;
  amountMinor: number;
  currency: string;
  balance: Balance;
  duplicate: boolean;
}

export interface MemberIdentity {
  teamId: string;
  userId: string;
  billingAnchorDay: number;
  plan: PlanTerms;
}

/** What a member's live state looks like to finance and the dashboard. */
export interface MemberCreditsView {
  teamId: string;
  userId: string;
  planId: string;
  balance: Balance;
  notificationsSent: MemberNotificationKind[];
  removed: boolean;
  pendingLedgerWrites: number;
  /** Invoice charges and notifications accepted but not yet delivered. */
  pendingDeliveries: number;
}

/** The member workflow's input: identity, plus the carried state after continue-as-new. */
export interface MemberWorkflowInput extends MemberIdentity {
  /** PAYG setting for a first start (paid plans default to on). */
  paygEnabled?: boolean;
  /**
   * How long a `consume` entry may wait in the outbox for the caller's write-through acknowledgement before the
   * workflow writes it itself (default `LEDGER_BACKSTOP_MS`). Kept across continue-as-new.
   */
  ledgerBackstopMs?: number;
  carried?: MemberSnapshot;
}

export interface MemberWorkflowResult {
  reason: 'removed';
  closedPeriodStart: number;
}

/** The state as plain JSON (a Map would serialise to `{}`), carried across continue-as-new. */
export interface MemberSnapshot {
  identity: MemberIdentity;
  periodStart: number;
  periodEnd: number;
  /** Run that opened this period: part of the grant and expiry keys. */
  periodOpenedBy: string;
  allowance: number;
  purchased: number;
  usedAllowance: number;
  usedPurchased: number;
  paygCredits: number;
  paygEnabled: boolean;
  notified: MemberNotificationKind[];
  removed: boolean;
  recentConsumptions: ConsumeResult[];
  recentPurchases: PurchaseResult[];
  pendingLedger: LedgerEntry[];
  pendingCharges: InvoiceCharge[];
  pendingNotifications: MemberNotification[];
  /** Keys of queued emails (the team PAYG threshold) still to deliver; absent in snapshots of older runs. */
  pendingEmails?: string[];
}

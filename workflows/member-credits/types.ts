/**
 * Plain-JSON types shared by the member workflow, its activities, the API and the tests.
 * Times are epoch milliseconds (UTC); credits are integer millicredits; money is integer minor units.
 */
import type { PlanTerms } from '../domain/plans';

/**
 * `restore` gives back credits an early close expired (a member removed and added again in the same period);
 * `adjustment` changes the period's allowance (a plan upgrade).
 */
export type LedgerKind = 'grant' | 'consume' | 'payg' | 'purchase' | 'expire' | 'restore' | 'adjustment';

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
  /** The budget lease a consumption was served from (rows the API writes). */
  leaseId?: string;
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

/**
 * `member_payg_cap`: a PAYG spend was refused at the member's monthly cap (Billing is told);
 * `member_team_payg_cap`: one was refused at the team's (Billing hears of it from the team's one email). `member_paused` and
 * `member_resumed` are in-product alerts only, and may come several times a period (each has its own key).
 */
export const MEMBER_NOTIFICATION_KINDS = [
  'member_75',
  'member_100',
  'member_exceeded',
  'member_payg_cap',
  'member_team_payg_cap',
  'member_paused',
  'member_resumed',
] as const;
export type MemberNotificationKind = (typeof MEMBER_NOTIFICATION_KINDS)[number];

/** The kinds notified at most once per period (`notified` lists them). */
export type OncePerPeriodKind = Exclude<MemberNotificationKind, 'member_paused' | 'member_resumed'>;

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
  currencyExponent?: number;
  /** For `member_paused` / `member_resumed`: why. */
  reason?: PauseReason | ResumeReason;
  occurredAt: number;
}

/** Why a member can no longer spend (no credits left and PAYG off or unavailable). */
export type PauseReason = 'credits_exhausted' | 'credits_held' | 'payg_disabled';
/** Why a paused member can spend again. */
export type ResumeReason =
  'payg_enabled' | 'credits_purchased' | 'period_renewed' | 'plan_upgraded' | 'credits_released';

/** The facts of a member event the workflow decided (spec §16); the webhook body is built from them. */
export type MemberEventFacts =
  | { type: 'member.threshold_reached'; threshold: 75 | 100; used: number; total: number; continuesWithPayg: boolean }
  | { type: 'member.payg_started'; rateMicrosPerCredit: number }
  | { type: 'member.paused'; reason: PauseReason }
  | { type: 'member.resumed'; reason: ResumeReason }
  /** `capMinor`: the member's cap; null for the team's (the webhook body names it, read when the event is stored). */
  | { type: 'member.payg_cap_reached'; scope: 'member' | 'team'; capMinor: number | null };

/** A member event, stored once (by its key) in the transaction of the records it came with. */
export type MemberEvent = MemberEventFacts & {
  /** Unique per member, period and occurrence: the event's public id is derived from it. */
  eventKey: string;
  teamId: string;
  userId: string;
  periodStart: number;
  periodEnd: number;
  planId: string;
  currency: string;
  occurredAt: number;
};

export interface Balance {
  periodStart: number;
  periodEnd: number;
  /** This period's monthly allowance. */
  allowance: number;
  /** Credits bought this period. */
  purchased: number;
  /** Credits spent from allowance and purchases (PAYG excluded). */
  used: number;
  /** Credits held by open reservations (from the allowance, purchases and PAYG). */
  held: number;
  /** allowance + purchased − used − what reservations hold of them. */
  remaining: number;
  paygEnabled: boolean;
  paygAvailable: boolean;
  /** Credits consumed beyond the period's credits, billed at the plan's rate. */
  paygCredits: number;
  /** What the PAYG credits cost so far, rounded half-up once (as the invoice will). */
  paygChargeMinor: number;
  /** The member's monthly PAYG cap in minor units (null: none). */
  paygCapMinor: number | null;
  currency: string;
  paused: boolean;
}

/** A share of the member's credits handed to one API instance, spent there without asking the workflow. */
export interface BudgetLease {
  leaseId: string;
  teamId: string;
  userId: string;
  /** The workflow run that handed it out (the ledger rows spent from it name that run). */
  runId: string;
  /** The API instance holding it. */
  holder: string;
  periodStart: number;
  periodEnd: number;
  /** Most the holder may spend, millicredits; it ends below the next notification threshold. */
  credits: number;
  /** The part of `credits` carved from the allowance (the rest is purchased credits). */
  allowanceCredits: number;
  expiresAt: number;
}

/** A lease the holder gives back, with what PostgreSQL says was spent from it. */
export interface ReturnedLease {
  leaseId: string;
  used: number;
}

export type ConsumeDecision = 'allowed' | 'allowed_payg' | 'refused';
export type RefusalReason = 'paused' | 'insufficient_credits' | 'payg_cap_reached' | 'team_payg_cap_reached';

export interface Charged {
  allowance: number;
  purchased: number;
  payg: number;
}

/** What an API instance asks of the workflow besides a consumption: leases back, and a new one. */
export interface LeaseTraffic {
  /** The API instance asking (leases are handed to it). */
  holder: string;
  returnLeases?: ReturnedLease[];
  wantLease?: boolean;
}

export interface ConsumeInput extends LeaseTraffic {
  requestId: string;
  action: string;
  millicredits: number;
}

/** The workflow's decision; the API reads the whole answer (with the balance) from PostgreSQL. */
export interface ConsumeResult {
  decision: ConsumeDecision;
  reason?: RefusalReason;
  charged: Charged;
  /** True when the request id was decided before (the first decision is returned). */
  duplicate: boolean;
  /** A new lease for the asking API instance, when it asked for one and credits are left below a threshold. */
  lease?: BudgetLease;
}

/** A plan upgrade applied at once to the member's current period (spec §16). */
export interface ChangePlanInput {
  /** The change's id (also in the audit trail): part of the ledger row's key. */
  changeId: string;
  /** The plan the member must be on for the change to apply: a retry, or a change overtaken by another, does nothing. */
  fromPlanId: string;
  plan: PlanTerms;
  /** Billing's PAYG setting for the member (null: never set), for a member whose old plan had no PAYG. */
  paygEnabled: boolean | null;
}

export interface SetPaygInput {
  /** PAYG on or off; absent: unchanged (a cap set on its own). */
  enabled?: boolean;
  /** The monthly PAYG cap in minor units; null: none; absent: unchanged. */
  monthlyCapMinor?: number | null;
}

/** Credits set aside for an action whose cost is known only after it ran (spec §14). */
export interface Hold {
  reservationId: string;
  action: string;
  /** The parts held, in spending order. */
  allowance: number;
  purchased: number;
  payg: number;
  expiresAt: number;
}

export interface ReserveInput {
  reservationId: string;
  action: string;
  millicredits: number;
  ttlMs: number;
}

export interface ReserveResult {
  decision: 'held' | 'refused';
  reason?: RefusalReason;
  held: Charged;
  expiresAt: number;
  duplicate: boolean;
}

export interface SettleInput {
  reservationId: string;
  millicredits: number;
}

export interface SettleResult {
  decision: 'allowed' | 'allowed_payg';
  charged: Charged;
  duplicate: boolean;
}

export interface ReleaseResult {
  released: number;
  /** `expired`: the hold had reached its time (or the period its end) before this release. */
  how: 'released' | 'expired';
  duplicate: boolean;
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
  duplicate: boolean;
}

export type RequestKind = 'consume' | 'purchase' | 'reserve' | 'settle' | 'release';

/** The answer row stored in PostgreSQL for a request id (the API completes it with the balance). */
export interface AnswerRecord {
  kind: RequestKind;
  /** The period the decision was made in: the answer's balance is that period's. */
  periodStart: number;
  requestId: string;
  fingerprint: string;
  answer:
    | { decision: ConsumeDecision; reason?: RefusalReason; charged: Charged }
    | PurchaseAnswer
    | Omit<ReserveResult, 'duplicate'>
    | Omit<SettleResult, 'duplicate'>
    | Omit<ReleaseResult, 'duplicate'>;
}

export interface PurchaseAnswer {
  purchaseId: string;
  millicredits: number;
  amountMinor: number;
  currency: string;
}

export interface MemberIdentity {
  teamId: string;
  userId: string;
  billingAnchorDay: number;
  plan: PlanTerms;
}

/**
 * What PostgreSQL holds of the member's current period when a run starts without carried state (a member removed
 * and added again in the same period): the run resumes it instead of granting a second allowance.
 */
export interface ResumedPeriod {
  periodStart: number;
  allowance: number;
  purchased: number;
  used: number;
  paygCredits: number;
  expired: number;
  notified: MemberNotificationKind[];
  /** The usage row's version: the resumed run's records go on from it. */
  version: number;
}

/** The member's non-additive figures, written with every batch of records (newest version wins). */
export interface UsageHeader {
  teamId: string;
  userId: string;
  periodStart: number;
  periodEnd: number;
  planId: string;
  currency: string;
  paygEnabled: boolean;
  paygAvailable: boolean;
  paygChargeMinor: number;
  paygCapMinor: number | null;
  held: number;
  /** The part of `held` that would be PAYG (not taken from the credits left). */
  heldPayg: number;
  notified: MemberNotificationKind[];
  version: number;
}

/** Records pushed together by one decision; `header` closes a period (its last figures). */
export interface RecordItem {
  seq: number;
  entries: LedgerEntry[];
  answers: AnswerRecord[];
  leases: BudgetLease[];
  /** Webhook events decided with these records (absent in items of older runs). */
  events?: MemberEvent[];
  header?: UsageHeader;
}

/** Everything one records write puts in PostgreSQL, in one transaction. */
export interface RecordBatch {
  entries: LedgerEntry[];
  answers: AnswerRecord[];
  leases: BudgetLease[];
  /** Webhook events, stored once each with the records (absent from batches of older code). */
  events?: MemberEvent[];
  /** Usage headers, oldest first: those of closed periods, then the current one. */
  headers: UsageHeader[];
}

/** What a member's live state looks like to finance. */
export interface MemberCreditsView {
  teamId: string;
  userId: string;
  planId: string;
  balance: Balance;
  notificationsSent: MemberNotificationKind[];
  removed: boolean;
  /** Leases out: their credits are spoken for, what was spent from them is in PostgreSQL until they come back. */
  openLeases: BudgetLease[];
  pendingRecords: number;
  /** Invoice charges and notifications accepted but not yet delivered. */
  pendingDeliveries: number;
  /** The size of the state the run would carry into continue-as-new, as JSON (bounded well under 2 MiB). */
  carriedBytes: number;
}

/** The member workflow's input: identity, plus the carried state after continue-as-new. */
export interface MemberWorkflowInput extends MemberIdentity {
  /** PAYG setting for a first start (paid plans default to on). */
  paygEnabled?: boolean;
  /** The member's monthly PAYG cap for a first start. */
  paygCapMinor?: number | null;
  /** A period to resume rather than open (no carried state). */
  resume?: ResumedPeriod;
  carried?: MemberSnapshot;
}

export interface MemberWorkflowResult {
  reason: 'removed';
  closedPeriodStart: number;
}

/** A decision the workflow remembers until PostgreSQL holds its answer (plus a grace time). */
export interface RememberedAnswer {
  kind: RequestKind;
  requestId: string;
  fingerprint: string;
  result: ConsumeResult | PurchaseResult | ReserveResult | SettleResult | ReleaseResult;
  decidedAt: number;
  /** Sequence number of its answer record; written once `recordsWritten` reaches it. */
  seq: number;
}

/** The state as plain JSON (a Map would serialise to `{}`), carried across continue-as-new. */
export interface MemberSnapshot {
  identity: MemberIdentity;
  periodStart: number;
  periodEnd: number;
  /** Run that opened this period: part of the grant, expiry and PAYG charge keys. */
  periodOpenedBy: string;
  allowance: number;
  purchased: number;
  usedAllowance: number;
  usedPurchased: number;
  paygCredits: number;
  /** PAYG credits of this period already on an invoice (a member removed, then added again). */
  paygBilled: number;
  /**
   * PAYG credits of this period spent under an earlier plan (an upgrade changed the rate), not yet on an invoice:
   * each is charged at its own rate. The rest of the unbilled PAYG is at the current plan's rate.
   */
  paygAtEarlierRates: { rateMicrosPerCredit: number; millicredits: number }[];
  paygEnabled: boolean;
  paygCapMinor: number | null;
  /** What this member claims of the team's PAYG cap in PostgreSQL: the charge of its PAYG and PAYG holds. */
  teamClaimMinor: number;
  /** Orders the claims (a late retry of an older claim never overwrites a newer one). */
  teamClaimSeq: number;
  notified: MemberNotificationKind[];
  /** Whether the member was paused when last looked at (a change of it is a `member.paused` / `resumed` event). */
  paused: boolean;
  /** Pause and resume events of this period so far (their keys). */
  pauseChanges: number;
  removed: boolean;
  holds: Hold[];
  leases: BudgetLease[];
  /** API instances handed a lease within the last lease lifetime: a new lease is shared with them. */
  recentHolders: { holder: string; at: number }[];
  remembered: RememberedAnswer[];
  /** Counter of records pushed (ledger entries, answers, leases, header changes): versions and waits. */
  recordsPushed: number;
  recordsWritten: number;
  pendingRecords: RecordItem[];
  pendingCharges: InvoiceCharge[];
  pendingNotifications: MemberNotification[];
  /** Keys of queued emails (the team PAYG threshold) still to deliver. */
  pendingEmails: string[];
}

/**
 * One member's credits for one billing period: a plain class, deterministic, free of Temporal, so it can be
 * unit- and property-tested alone. The workflow owns one instance and feeds it messages and the clock.
 *
 * The state is the one authority over the period: it decides every consumption that reaches it (PAYG, refusals,
 * the consumption that crosses a notification threshold) and hands out budget leases, shares of the remaining
 * credits that an API instance spends without asking (spec §13). A lease always ends below the next threshold
 * that has not been notified, so the consumption that crosses it comes here. What was spent from a lease is
 * learnt when the lease comes back (from PostgreSQL, where every spend was written with the lease's id).
 *
 * Everything that must reach PostgreSQL or a person leaves through outboxes (records: ledger rows, answers,
 * leases and the usage row; invoice charges; notifications). They are part of the state, so of history and of
 * the continue-as-new input: nothing accepted is lost while PostgreSQL or SMTP is down, and their size is bounded
 * (`MAX_PENDING_RECORDS`): past it new decisions are refused as unavailable until the outboxes drain.
 */
import { formatRate, paygChargeMinor } from '../domain/money';
import { nextPeriod, periodContaining, periodKey } from '../domain/periods';
import { isAgentAction, type PlanTerms } from '../domain/plans';
import type {
  AnswerRecord,
  Balance,
  BudgetLease,
  ChangePlanInput,
  ConsumeInput,
  ConsumeResult,
  Hold,
  InvoiceCharge,
  LedgerEntry,
  MemberCreditsView,
  MemberEvent,
  MemberEventFacts,
  MemberIdentity,
  MemberNotification,
  MemberSnapshot,
  OncePerPeriodKind,
  PauseReason,
  PurchaseInput,
  PurchaseResult,
  RecordBatch,
  RefusalReason,
  ReleaseResult,
  RememberedAnswer,
  RequestKind,
  ResumeReason,
  ReserveInput,
  ReserveResult,
  ResumedPeriod,
  ReturnedLease,
  SetPaygInput,
  SettleInput,
  SettleResult,
  UsageHeader,
} from './types';

export const MAX_REQUEST_ID_LENGTH = 128;
const REQUEST_ID_PATTERN = /^[\x21-\x7e]+$/;
/**
 * A decision stays remembered here this long after its answer is in PostgreSQL. The API claims a request id in
 * PostgreSQL and must have its Update admitted within `UPDATE_TIMEOUT_MS` (30 s) of that look-up, far less than
 * this: a request id that found no answer there finds the decision here, and is never decided twice.
 */
export const REMEMBER_AFTER_WRITE_MS = 5 * 60_000;
/** Most record items waiting for PostgreSQL before new decisions are refused (back-pressure, not a lost run). */
export const MAX_PENDING_RECORDS = 2_000;
/** Most invoice charges and notifications waiting for delivery before new decisions are refused. */
export const MAX_PENDING_DELIVERIES = 1_000;
/** How long a lease may be spent from, at most (`leaseTtl`). It never outlives its period. */
export const LEASE_TTL_MS = 5 * 60_000;

/**
 * A lease's time: `LEASE_TTL_MS` less up to a fifth, fixed by its id (FNV-1a), so leases handed out together (at
 * the billing date, after a deploy) do not all expire and come back to their workflows in the same second.
 */
export function leaseTtl(leaseId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < leaseId.length; i++) hash = Math.imul(hash ^ leaseId.charCodeAt(i), 0x01000193) >>> 0;
  return LEASE_TTL_MS - (hash % (LEASE_TTL_MS / 5));
}
const MAX_RETURNED_LEASES = 16;
/** Reservations (spec §14): 300 s unless asked, at most a day; at most this many open at once per member. */
export const DEFAULT_RESERVATION_TTL_MS = 300_000;
export const MAX_RESERVATION_TTL_MS = 86_400_000;
export const MAX_OPEN_HOLDS = 1_000;
/** A reservation id is also a ledger request id (`r:` + id), whose column holds 128 characters. */
export const MAX_RESERVATION_ID_LENGTH = 120;
const MAX_RECENT_HOLDERS = 16;

/** Thrown by validators: the message never enters history. The name travels to the client as the type. */
export class InvalidMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMessageError';
  }
}

/** The plan does not allow what was asked (PAYG on a free plan, a purchase on a plan without purchases). */
export class NotAllowedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotAllowedError';
  }
}

/** The member has left the team; their workflow accepts nothing more. */
export class MemberRemovedError extends Error {
  constructor() {
    super('member has been removed from the team');
    this.name = 'MemberRemovedError';
  }
}

/** The same request id was sent before with a different body. */
export class IdempotencyConflictError extends Error {
  constructor(what: string) {
    super(`${what} was used before with a different request body`);
    this.name = 'IdempotencyConflictError';
  }
}

/** Settle or release of a reservation that is not held (settled, released, expired, or never made). */
export class ReservationNotHeldError extends Error {
  constructor(reservationId: string, how?: string) {
    super(`reservation ${reservationId} is not held${how ? ` (${how})` : ''}`);
    this.name = 'ReservationNotHeldError';
  }
}

/** The outboxes are full (PostgreSQL or SMTP has been down for long): refuse new work until they drain. */
export class BackpressureError extends Error {
  constructor(what: string) {
    super(`${what} waiting for delivery; retry shortly`);
    this.name = 'BackpressureError';
  }
}

export function memberKey(identity: Pick<MemberIdentity, 'teamId' | 'userId'>): string {
  return `${identity.teamId}/${identity.userId}`;
}

/** The ledger row's unique key: member, period, kind and what caused it (a request id, or the run). */
export function ledgerEntryKey(
  e: Pick<LedgerEntry, 'teamId' | 'userId' | 'periodStart' | 'periodEnd' | 'kind'>,
  discriminator: string,
): string {
  return `${memberKey(e)}:${periodKey({ start: e.periodStart, end: e.periodEnd })}:${e.kind}:${discriminator}`;
}

/** What a repeat of a request must match: the same action and amount. */
export function consumeFingerprint(action: string, millicredits: number): string {
  return `${action}:${millicredits}`;
}
export function purchaseFingerprint(millicredits: number): string {
  return `purchase:${millicredits}`;
}
export function reserveFingerprint(action: string, millicredits: number): string {
  return `reserve:${action}:${millicredits}`;
}
export function settleFingerprint(millicredits: number): string {
  return `settle:${millicredits}`;
}
export const RELEASE_FINGERPRINT = 'release';

export class MemberCreditsState {
  private constructor(private s: MemberSnapshot) {}

  /** A fresh period for a member who starts now (a new member gets the full allowance). */
  static open(
    identity: MemberIdentity,
    now: number,
    runId: string,
    options: { paygEnabled?: boolean; paygCapMinor?: number | null; resume?: ResumedPeriod } = {},
  ): MemberCreditsState {
    const period = periodContaining(now, identity.billingAnchorDay);
    const resume = options.resume?.periodStart === period.start ? options.resume : undefined;
    const state = new MemberCreditsState({
      identity,
      periodStart: period.start,
      periodEnd: period.end,
      periodOpenedBy: runId,
      allowance: resume ? resume.allowance : identity.plan.monthlyAllowance,
      purchased: resume?.purchased ?? 0,
      usedAllowance: 0,
      usedPurchased: 0,
      paygCredits: resume?.paygCredits ?? 0,
      paygBilled: resume?.paygCredits ?? 0,
      paygAtEarlierRates: [],
      paygEnabled: identity.plan.paygAvailable && (options.paygEnabled ?? true),
      paygCapMinor: options.paygCapMinor ?? null,
      teamClaimMinor: 0,
      teamClaimSeq: 0,
      notified: resume ? [...resume.notified] : [],
      paused: false,
      pauseChanges: 0,
      removed: false,
      holds: [],
      leases: [],
      recentHolders: [],
      remembered: [],
      // Versions of the usage row go on from where the resumed period's left off.
      recordsPushed: resume?.version ?? 0,
      recordsWritten: resume?.version ?? 0,
      pendingRecords: [],
      pendingCharges: [],
      pendingNotifications: [],
      pendingEmails: [],
    });
    state.s.teamClaimMinor = state.paygChargeMinor(); // what a removed run claimed (resumed), or nothing
    if (resume) {
      // Spent in the order credits are spent: allowance first.
      state.s.usedAllowance = Math.min(resume.used, resume.allowance);
      state.s.usedPurchased = resume.used - state.s.usedAllowance;
      // Credits the early close expired come back (no second allowance: the grant stays the one already written).
      if (resume.expired > 0) state.pushLedger({ kind: 'restore', millicredits: resume.expired, occurredAt: now });
      else state.pushHeader();
    } else if (state.s.allowance > 0) {
      state.pushLedger({ kind: 'grant', millicredits: state.s.allowance, occurredAt: now });
    } else {
      state.pushHeader();
    }
    // Where the member starts is not a change: no event (a resumed period was paused or not before).
    state.s.paused = state.isPaused();
    return state;
  }

  static fromSnapshot(snapshot: MemberSnapshot): MemberCreditsState {
    const s = structuredCloneJson(snapshot);
    // Fields added after the first deployments: a run carrying an older snapshot starts them here.
    s.paygAtEarlierRates ??= [];
    s.pauseChanges ??= 0;
    const state = new MemberCreditsState(s);
    s.paused ??= state.isPaused();
    return state;
  }

  snapshot(): MemberSnapshot {
    return structuredCloneJson(this.s);
  }

  get identity(): MemberIdentity {
    return this.s.identity;
  }
  get periodEnd(): number {
    return this.s.periodEnd;
  }
  get periodStart(): number {
    return this.s.periodStart;
  }
  get removed(): boolean {
    return this.s.removed;
  }
  get leases(): readonly BudgetLease[] {
    return this.s.leases;
  }

  // ---- validation (called from update validators: throwing keeps the message out of history) ----

  validateConsume(input: ConsumeInput): void {
    if (this.s.removed) throw new MemberRemovedError();
    validateRequestId(input?.requestId, 'requestId');
    if (!isAgentAction(input.action)) throw new InvalidMessageError(`unknown action: ${String(input.action)}`);
    validateMillicredits(input.millicredits, this.s.identity.plan.maxCreditsPerAction, 'credits');
    validateLeaseTraffic(input);
    this.checkCapacity(input.requestId, 'consume');
  }

  validatePurchase(input: PurchaseInput): void {
    if (this.s.removed) throw new MemberRemovedError();
    if (!this.s.identity.plan.purchasesAllowed) {
      throw new NotAllowedError(`plan ${this.s.identity.plan.planId} does not allow credit purchases`);
    }
    validateRequestId(input?.purchaseId, 'purchaseId');
    validateMillicredits(input.millicredits, this.s.identity.plan.maxPurchase, 'credits');
    this.checkCapacity(input.purchaseId, 'purchase');
  }

  validateSetPayg(input: SetPaygInput): void {
    if (this.s.removed) throw new MemberRemovedError();
    if (input?.enabled === undefined && input?.monthlyCapMinor === undefined) {
      throw new InvalidMessageError('give enabled, monthlyCapMinor or both');
    }
    if (input.enabled !== undefined && typeof input.enabled !== 'boolean') {
      throw new InvalidMessageError('enabled must be a boolean');
    }
    if (input.enabled && !this.s.identity.plan.paygAvailable) {
      throw new NotAllowedError(`pay-as-you-go is not available on plan ${this.s.identity.plan.planId}`);
    }
    const cap: unknown = input.monthlyCapMinor;
    if (cap !== undefined && cap !== null && (typeof cap !== 'number' || !Number.isSafeInteger(cap) || cap < 0)) {
      throw new InvalidMessageError('monthlyCapMinor must be a whole amount of minor units, 0 or more, or null');
    }
  }

  validateChangePlan(input: ChangePlanInput): void {
    if (this.s.removed) throw new MemberRemovedError();
    validateRequestId(input?.changeId, 'changeId');
    if (typeof input.fromPlanId !== 'string') throw new InvalidMessageError('fromPlanId is required');
    const p: Partial<PlanTerms> | undefined = input.plan;
    const whole = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
    if (
      typeof p?.planId !== 'string' ||
      !whole(p.monthlyAllowance) ||
      !whole(p.paygRateMicrosPerCredit) ||
      !whole(p.purchaseRateMicrosPerCredit) ||
      !whole(p.maxCreditsPerAction) ||
      !whole(p.maxPurchase) ||
      typeof p.paygAvailable !== 'boolean' ||
      typeof p.purchasesAllowed !== 'boolean' ||
      p.currency !== this.s.identity.plan.currency
    ) {
      throw new InvalidMessageError('plan must be complete plan terms in the same currency');
    }
    if (input.paygEnabled !== null && typeof input.paygEnabled !== 'boolean') {
      throw new InvalidMessageError('paygEnabled must be a boolean or null');
    }
  }

  validateReserve(input: ReserveInput): void {
    if (this.s.removed) throw new MemberRemovedError();
    validateRequestId(input?.reservationId, 'reservationId', MAX_RESERVATION_ID_LENGTH);
    if (!isAgentAction(input.action)) throw new InvalidMessageError(`unknown action: ${String(input.action)}`);
    validateMillicredits(input.millicredits, this.s.identity.plan.maxCreditsPerAction, 'credits');
    if (!Number.isSafeInteger(input.ttlMs) || input.ttlMs < 1_000 || input.ttlMs > MAX_RESERVATION_TTL_MS) {
      throw new InvalidMessageError(`ttlSeconds must be from 1 to ${MAX_RESERVATION_TTL_MS / 1000}`);
    }
    if (!this.knows('reserve', input.reservationId) && this.s.holds.length >= MAX_OPEN_HOLDS) {
      throw new BackpressureError(`${MAX_OPEN_HOLDS} reservations are open; settle or release some, they are`);
    }
    this.checkCapacity(input.reservationId, 'reserve');
  }

  validateRelease(reservationId: unknown): void {
    if (this.s.removed) throw new MemberRemovedError();
    validateRequestId(reservationId, 'reservationId', MAX_RESERVATION_ID_LENGTH);
    this.checkCapacity(reservationId, 'release');
  }

  validateSettle(input: SettleInput): void {
    if (this.s.removed) throw new MemberRemovedError();
    validateRequestId(input?.reservationId, 'reservationId', MAX_RESERVATION_ID_LENGTH);
    const m: unknown = input.millicredits;
    if (typeof m !== 'number' || !Number.isSafeInteger(m) || m < 0) {
      throw new InvalidMessageError('credits must be 0 or more, with at most 3 decimals');
    }
    const hold = this.s.holds.find((h) => h.reservationId === input.reservationId);
    if (hold && m > holdTotal(hold)) {
      throw new InvalidMessageError(`credits must be at most the ${holdTotal(hold) / 1000} held`);
    }
    this.checkCapacity(input.reservationId, 'settle');
  }

  // ---- messages ----

  /** True when the request id has a remembered decision (a repeat changes nothing, whatever else is true). */
  knows(kind: RequestKind, requestId: string): boolean {
    return this.s.remembered.some((r) => r.kind === kind && r.requestId === requestId);
  }

  /**
   * Leases the holder gives back: what was spent from them becomes used, the rest is free again. A lease handed out
   * while PAYG was on may have spent the last credit after PAYG was turned off: the pause is learnt here.
   */
  settleLeases(returned: readonly ReturnedLease[], now: number): void {
    for (const r of returned) {
      const i = this.s.leases.findIndex((l) => l.leaseId === r.leaseId);
      if (i < 0) continue; // settled already (expired, or reclaimed for a decision)
      const lease = this.s.leases[i];
      const used = Math.min(Math.max(0, Math.trunc(r.used)), lease.credits);
      const fromAllowance = Math.min(used, lease.allowanceCredits);
      this.s.usedAllowance += fromAllowance;
      this.s.usedPurchased += used - fromAllowance;
      this.s.leases.splice(i, 1);
    }
    if (returned.length > 0) this.trackPause(now, 'credits_exhausted', 'credits_released');
  }

  /**
   * Whether deciding `millicredits` now needs the exact spend of the leases out: when it might not fit in what no
   * lease holds, or might cross a threshold depending on what was spent from them.
   */
  needsLeasesBack(millicredits: number): boolean {
    if (this.s.leases.length === 0) return false;
    if (millicredits > this.remaining() - this.leased()) return true;
    const threshold = this.nextThreshold();
    return threshold !== undefined && this.used() + this.leased() + millicredits >= threshold;
  }

  /** Decide a consumption (a repeat gets its first decision; the same id with another body is a conflict). */
  consume(input: ConsumeInput, now: number, options: { teamCapReached?: boolean } = {}): ConsumeResult {
    const seen = this.recall('consume', input.requestId, consumeFingerprint(input.action, input.millicredits));
    if (seen) return { ...(seen.result as ConsumeResult), duplicate: true };
    const s = this.s;
    const { fromAllowance, fromPurchased, payg } = this.plan(input.millicredits);
    const reason = this.refusal(payg, now, options.teamCapReached);
    let result: ConsumeResult;
    if (reason) {
      result = { decision: 'refused', reason, charged: { allowance: 0, purchased: 0, payg: 0 }, duplicate: false };
      this.trackPause(now, 'credits_exhausted', 'credits_released');
    } else {
      const firstPayg = payg > 0 && s.paygCredits === 0;
      s.usedAllowance += fromAllowance;
      s.usedPurchased += fromPurchased;
      s.paygCredits += payg;
      this.pushRecords({
        entries: this.spendEntries(input.requestId, input.action, fromAllowance + fromPurchased, payg, now),
      });
      this.checkThresholds(now, firstPayg);
      this.trackPause(now, 'credits_exhausted', 'credits_released');
      result = {
        decision: payg > 0 ? 'allowed_payg' : 'allowed',
        charged: { allowance: fromAllowance, purchased: fromPurchased, payg },
        duplicate: false,
      };
    }
    this.remember('consume', input.requestId, consumeFingerprint(input.action, input.millicredits), result, now);
    return result;
  }

  /**
   * The claim on the team's PAYG cap that spending (or holding) `millicredits` now would need, when it would raise
   * this member's: the workflow asks PostgreSQL for it (`claimTeamPayg`) before deciding. Undefined when no PAYG is
   * involved or it is refused anyway.
   */
  teamClaimFor(millicredits: number, now: number): { claimMinor: number; seq: number } | undefined {
    const { payg } = this.plan(millicredits);
    if (payg === 0 || this.refusal(payg, now, false, false)) return undefined;
    const claimMinor = this.chargeWith(payg);
    return claimMinor > this.s.teamClaimMinor ? { claimMinor, seq: this.s.teamClaimSeq + 1 } : undefined;
  }

  /** The claim to write after PAYG holds were settled for less or released (it only goes down). */
  teamClaimRelease(): { claimMinor: number; seq: number } | undefined {
    const claimMinor = this.chargeWith(0);
    return claimMinor < this.s.teamClaimMinor ? { claimMinor, seq: this.s.teamClaimSeq + 1 } : undefined;
  }

  /** PostgreSQL holds this claim now. */
  teamClaimed(claim: { claimMinor: number; seq: number }): void {
    this.s.teamClaimMinor = claim.claimMinor;
    this.s.teamClaimSeq = claim.seq;
  }

  /** Set credits aside for an action whose cost is known after it ran (spec §14), in the usual spending order. */
  reserve(input: ReserveInput, now: number, options: { teamCapReached?: boolean } = {}): ReserveResult {
    const fingerprint = reserveFingerprint(input.action, input.millicredits);
    const seen = this.recall('reserve', input.reservationId, fingerprint);
    if (seen) return { ...(seen.result as ReserveResult), duplicate: true };
    const { fromAllowance, fromPurchased, payg } = this.plan(input.millicredits);
    const reason = this.refusal(payg, now, options.teamCapReached);
    let result: ReserveResult;
    if (reason) {
      result = {
        decision: 'refused',
        reason,
        held: { allowance: 0, purchased: 0, payg: 0 },
        expiresAt: 0,
        duplicate: false,
      };
    } else {
      const hold: Hold = {
        reservationId: input.reservationId,
        action: input.action,
        allowance: fromAllowance,
        purchased: fromPurchased,
        payg,
        expiresAt: Math.min(now + input.ttlMs, this.s.periodEnd),
      };
      this.s.holds.push(hold);
      this.pushHeader();
      this.trackPause(now, 'credits_held', 'credits_released');
      result = {
        decision: 'held',
        held: { allowance: fromAllowance, purchased: fromPurchased, payg },
        expiresAt: hold.expiresAt,
        duplicate: false,
      };
    }
    this.remember('reserve', input.reservationId, fingerprint, result, now);
    return result;
  }

  /**
   * Record the real cost of a held action (0 ≤ cost ≤ held) as a consumption, from the held parts in spending order,
   * and give the rest back. Thresholds and notifications happen here, as for any consumption.
   */
  settle(input: SettleInput, now: number): SettleResult {
    const fingerprint = settleFingerprint(input.millicredits);
    const seen = this.recall('settle', input.reservationId, fingerprint);
    if (seen) return { ...(seen.result as SettleResult), duplicate: true };
    const hold = this.takeHold(input.reservationId);
    const fromAllowance = Math.min(input.millicredits, hold.allowance);
    const fromPurchased = Math.min(input.millicredits - fromAllowance, hold.purchased);
    const payg = input.millicredits - fromAllowance - fromPurchased;
    const s = this.s;
    const firstPayg = payg > 0 && s.paygCredits === 0;
    s.usedAllowance += fromAllowance;
    s.usedPurchased += fromPurchased;
    s.paygCredits += payg;
    const requestId = `r:${input.reservationId}`;
    this.pushRecords({ entries: this.spendEntries(requestId, hold.action, fromAllowance + fromPurchased, payg, now) });
    this.checkThresholds(now, firstPayg);
    this.trackPause(now, 'credits_exhausted', 'credits_released');
    const result: SettleResult = {
      decision: payg > 0 ? 'allowed_payg' : 'allowed',
      charged: { allowance: fromAllowance, purchased: fromPurchased, payg },
      duplicate: false,
    };
    this.remember('settle', input.reservationId, fingerprint, result, now);
    return result;
  }

  /** Give a hold's credits back (a release, or its time is up). */
  release(reservationId: string, now: number, how: ReleaseResult['how'] = 'released'): ReleaseResult {
    const result = this.releaseHold(reservationId, now, how);
    if (!result.duplicate) this.trackPause(now, 'credits_held', 'credits_released');
    return result;
  }

  private releaseHold(reservationId: string, now: number, how: ReleaseResult['how']): ReleaseResult {
    const seen = this.recall('release', reservationId, RELEASE_FINGERPRINT);
    if (seen) return { ...(seen.result as ReleaseResult), duplicate: true };
    const hold = this.takeHold(reservationId);
    const result: ReleaseResult = { released: holdTotal(hold), how, duplicate: false };
    this.remember('release', reservationId, RELEASE_FINGERPRINT, result, now);
    return result;
  }

  /** Holds whose time is up at `now` are released (the workflow does it, whatever became of the API). */
  expireHolds(now: number): number {
    const expired = this.s.holds.filter((h) => h.expiresAt <= now);
    for (const h of expired) this.release(h.reservationId, now, 'expired');
    return expired.length;
  }

  /** Every hold goes back: the period closes (a hold never outlives its period) or the member leaves. */
  releaseAllHolds(now: number): void {
    for (const h of [...this.s.holds]) this.releaseHold(h.reservationId, now, 'expired');
  }

  get holds(): readonly Hold[] {
    return this.s.holds;
  }

  /**
   * A lease for `holder`: what is free below the next threshold not yet notified (half of it when another API
   * instance holds a lease too, so both keep serving), or none when nothing is free.
   */
  grantLease(holder: string, now: number, runId: string, leaseId: string): BudgetLease | undefined {
    if (this.s.removed || now >= this.s.periodEnd) return undefined;
    const threshold = this.nextThreshold();
    let credits = this.remaining() - this.leased();
    // Below the threshold: the consumption that reaches it is decided here, and notified once.
    // Held credits may be settled while the lease is out: they count as if spent, so no spend from the lease can
    // cross the threshold after a settle.
    if (threshold !== undefined) {
      credits = Math.min(credits, threshold - 1 - this.used() - this.leased() - this.heldCredits());
    }
    // Another API instance serves this member too (it holds a lease, or had one lately): leave it half.
    this.s.recentHolders = this.s.recentHolders.filter((r) => r.at > now - LEASE_TTL_MS && r.holder !== holder);
    if (this.s.leases.some((l) => l.holder !== holder) || this.s.recentHolders.length > 0) {
      credits = Math.ceil(credits / 2);
    }
    this.s.recentHolders = [...this.s.recentHolders.slice(-(MAX_RECENT_HOLDERS - 1)), { holder, at: now }];
    if (credits <= 0) return undefined;
    const allowanceFree = this.plan(credits).fromAllowance;
    const lease: BudgetLease = {
      leaseId,
      teamId: this.s.identity.teamId,
      userId: this.s.identity.userId,
      runId,
      holder,
      periodStart: this.s.periodStart,
      periodEnd: this.s.periodEnd,
      credits,
      allowanceCredits: Math.min(credits, allowanceFree),
      expiresAt: Math.min(now + leaseTtl(leaseId), this.s.periodEnd),
    };
    this.s.leases.push(lease);
    this.pushRecords({ leases: [lease] });
    return lease;
  }

  /** Leases whose time is up at `now` (the holder may be gone: the workflow settles them from PostgreSQL). */
  expiredLeases(now: number): BudgetLease[] {
    return this.s.leases.filter((l) => l.expiresAt <= now);
  }

  /** When the next lease or hold runs out (the workflow's one timer for both). */
  nextExpiry(): number | undefined {
    const times = [...this.s.leases, ...this.s.holds].map((x) => x.expiresAt);
    return times.length === 0 ? undefined : Math.min(...times);
  }

  setPayg(input: SetPaygInput, now: number): void {
    if (input.enabled !== undefined) this.s.paygEnabled = input.enabled && this.s.identity.plan.paygAvailable;
    if (input.monthlyCapMinor !== undefined) this.s.paygCapMinor = input.monthlyCapMinor;
    this.pushHeader();
    this.trackPause(now, 'payg_disabled', 'payg_enabled');
  }

  /**
   * A plan upgrade, at once (spec §16): the period's allowance grows by the difference of the plans' allowances (an
   * `adjustment` ledger row says so), and PAYG from now on is at the new plan's rate (what was spent before stays at
   * the old one). Applies only to a member on `fromPlanId`, so a retry, or a change another one overtook, does
   * nothing. Returns whether it applied.
   */
  changePlan(input: ChangePlanInput, now: number): boolean {
    const s = this.s;
    const old = s.identity.plan;
    if (old.planId !== input.fromPlanId || input.plan.planId === old.planId) return false;
    const atOldRate = this.unbilledPayg() - sum(s.paygAtEarlierRates.map((r) => r.millicredits));
    if (atOldRate > 0 && old.paygRateMicrosPerCredit !== input.plan.paygRateMicrosPerCredit) {
      const same = s.paygAtEarlierRates.find((r) => r.rateMicrosPerCredit === old.paygRateMicrosPerCredit);
      if (same) same.millicredits += atOldRate;
      else s.paygAtEarlierRates.push({ rateMicrosPerCredit: old.paygRateMicrosPerCredit, millicredits: atOldRate });
    }
    s.identity = { ...s.identity, plan: input.plan };
    // A member whose old plan had no PAYG gets Billing's setting for them, or the paid plans' default (on).
    s.paygEnabled = input.plan.paygAvailable && (old.paygAvailable ? s.paygEnabled : (input.paygEnabled ?? true));
    const grows = Math.max(0, input.plan.monthlyAllowance - old.monthlyAllowance);
    s.allowance += grows;
    if (grows > 0) {
      this.pushLedger({
        kind: 'adjustment',
        millicredits: grows,
        requestId: `plan:${input.changeId}`,
        occurredAt: now,
      });
    } else {
      this.pushHeader();
    }
    this.trackPause(now, 'credits_exhausted', 'plan_upgraded');
    return true;
  }

  purchase(input: PurchaseInput, now: number): PurchaseResult {
    const seen = this.recall('purchase', input.purchaseId, purchaseFingerprint(input.millicredits));
    if (seen) return { ...(seen.result as PurchaseResult), duplicate: true };
    const plan = this.s.identity.plan;
    const amountMinor = paygChargeMinor(input.millicredits, plan.purchaseRateMicrosPerCredit, plan.currencyExponent);
    this.s.purchased += input.millicredits;
    this.s.pendingCharges.push({
      chargeKey: `${this.scopeKey()}:purchase:${input.purchaseId}`,
      teamId: this.s.identity.teamId,
      userId: this.s.identity.userId,
      kind: 'purchase',
      periodStart: this.s.periodStart,
      periodEnd: this.s.periodEnd,
      millicredits: input.millicredits,
      rateMicrosPerCredit: plan.purchaseRateMicrosPerCredit,
      amountMinor,
      currency: plan.currency,
      description: `AI credits purchase for ${this.s.identity.userId}`,
      occurredAt: now,
    });
    const result: PurchaseResult = {
      purchaseId: input.purchaseId,
      millicredits: input.millicredits,
      amountMinor,
      currency: plan.currency,
      duplicate: false,
    };
    const entry = this.entry({
      kind: 'purchase',
      requestId: input.purchaseId,
      millicredits: input.millicredits,
      amountMinor,
      currency: plan.currency,
      occurredAt: now,
    });
    this.pushRecords({ entries: [entry] });
    this.remember('purchase', input.purchaseId, purchaseFingerprint(input.millicredits), result, now);
    this.trackPause(now, 'credits_exhausted', 'credits_purchased');
    return result;
  }

  /**
   * Close the current period (expire what is left, bill PAYG) and open the next one with a fresh allowance, on
   * the plan in force then. The PAYG setting carries over; notifications and counters reset. Every lease must be
   * back first. Called once per elapsed period.
   */
  rollOver(runId: string, plan: PlanTerms = this.s.identity.plan): void {
    if (this.s.leases.length > 0) throw new Error('leases must be settled before the period closes');
    this.releaseAllHolds(this.s.periodEnd);
    const closedAt = this.s.periodEnd;
    this.closePeriod(closedAt);
    const next = nextPeriod({ start: this.s.periodStart, end: this.s.periodEnd }, this.s.identity.billingAnchorDay);
    Object.assign(this.s, {
      identity: { ...this.s.identity, plan },
      periodStart: next.start,
      periodEnd: next.end,
      periodOpenedBy: runId,
      allowance: plan.monthlyAllowance,
      purchased: 0,
      usedAllowance: 0,
      usedPurchased: 0,
      paygCredits: 0,
      paygBilled: 0,
      paygAtEarlierRates: [],
      paygEnabled: this.s.paygEnabled && plan.paygAvailable,
      teamClaimMinor: 0,
      notified: [],
      pauseChanges: 0,
    });
    if (plan.monthlyAllowance > 0) {
      this.pushLedger({ kind: 'grant', millicredits: plan.monthlyAllowance, occurredAt: next.start });
    } else {
      this.pushHeader();
    }
    // `paused` still says how the closed period ended: a member paused then spends again from the new one.
    this.trackPause(next.start, 'credits_exhausted', 'period_renewed');
  }

  /**
   * The billing date passed: settle the leases taken back (`closed`), then close every period elapsed at `now` and
   * open the next ones on `plan`. Made twice with the same arguments, from the same state, by the renewal activity
   * (which writes the records in PostgreSQL) and by the workflow (which then knows them written): both push the
   * same records with the same keys.
   */
  renew(runId: string, plan: PlanTerms, now: number, closed: readonly ReturnedLease[]): InvoiceCharge[] {
    const charges = this.s.pendingCharges.length;
    this.settleLeases(closed, now);
    while (now >= this.s.periodEnd) this.rollOver(runId, plan);
    return this.s.pendingCharges.slice(charges);
  }

  /**
   * The renewal's own invoice charges (the last `count` queued) were posted with its records. Those queued before
   * stay for the charges lane, which acknowledges from the front.
   */
  renewalChargesPosted(count: number): void {
    if (count > 0) this.s.pendingCharges.splice(this.s.pendingCharges.length - count, count);
  }

  /** What the renewal activity needs to make the same renewal: the state without the remembered answers. */
  renewalSnapshot(): MemberSnapshot {
    return { ...this.snapshot(), remembered: [] };
  }

  /** A removed member: the period closes now, early, and the state accepts nothing more. Leases must be back. */
  remove(now: number): void {
    if (this.s.removed) return;
    if (this.s.leases.length > 0) throw new Error('leases must be settled before the member is removed');
    this.releaseAllHolds(now);
    this.closePeriod(now);
    this.s.removed = true;
  }

  /** Forget decisions whose answers have been in PostgreSQL for `REMEMBER_AFTER_WRITE_MS`. */
  forgetWritten(now: number): void {
    this.s.remembered = this.s.remembered.filter(
      (r) => r.seq > this.s.recordsWritten || r.decidedAt + REMEMBER_AFTER_WRITE_MS > now,
    );
  }

  // ---- outboxes ----

  /** The records to write next (at most `max` items), with the newest usage header. */
  nextRecords(max: number): { batch: RecordBatch; throughSeq: number } | undefined {
    const items = this.s.pendingRecords.slice(0, max);
    if (items.length === 0) return undefined;
    const closed = items.flatMap((i) => (i.header ? [i.header] : []));
    return {
      batch: {
        entries: items.flatMap((i) => i.entries),
        answers: items.flatMap((i) => i.answers),
        leases: items.flatMap((i) => i.leases),
        events: items.flatMap((i) => i.events ?? []),
        headers: [...closed, this.header()],
      },
      throughSeq: items[items.length - 1].seq,
    };
  }
  /** Records through `seq` are in PostgreSQL. */
  recordsStored(seq: number): void {
    this.s.pendingRecords = this.s.pendingRecords.filter((i) => i.seq > seq);
    this.s.recordsWritten = Math.max(this.s.recordsWritten, seq);
  }
  /** True once everything pushed up to `seq` is in PostgreSQL. */
  isWritten(seq: number): boolean {
    return this.s.recordsWritten >= seq;
  }
  get recordsPushed(): number {
    return this.s.recordsPushed;
  }
  get pendingCharges(): readonly InvoiceCharge[] {
    return this.s.pendingCharges;
  }
  get pendingNotifications(): readonly MemberNotification[] {
    return this.s.pendingNotifications;
  }
  get pendingEmails(): readonly string[] {
    return this.s.pendingEmails;
  }
  /** Emails an activity queued in PostgreSQL (the team PAYG threshold) that still have to be delivered. */
  queueEmails(keys: readonly string[]): void {
    for (const key of keys) if (!this.s.pendingEmails.includes(key)) this.s.pendingEmails.push(key);
  }
  hasPendingRecords(): boolean {
    return this.s.pendingRecords.length > 0;
  }
  hasPendingWork(): boolean {
    return this.hasPendingRecords() || this.pendingDeliveries() > 0;
  }
  /** Invoice charges, notifications and queued emails not delivered yet. */
  pendingDeliveries(): number {
    return this.s.pendingCharges.length + this.s.pendingNotifications.length + this.s.pendingEmails.length;
  }
  ackCharges(count: number): void {
    this.s.pendingCharges.splice(0, count);
  }
  ackEmails(count: number): void {
    this.s.pendingEmails.splice(0, count);
  }
  ackNotifications(count: number): void {
    this.s.pendingNotifications.splice(0, count);
  }

  // ---- reading ----

  /** The balance as the workflow knows it: spends from leases still out are counted when they come back. */
  balance(): Balance {
    const s = this.s;
    const plan = s.identity.plan;
    return {
      periodStart: s.periodStart,
      periodEnd: s.periodEnd,
      allowance: s.allowance,
      purchased: s.purchased,
      used: this.used(),
      held: sum(this.s.holds.map(holdTotal)),
      remaining: this.remaining(),
      paygEnabled: s.paygEnabled,
      paygAvailable: plan.paygAvailable,
      paygCredits: s.paygCredits,
      paygChargeMinor: this.paygChargeMinor(),
      paygCapMinor: s.paygCapMinor,
      currency: plan.currency,
      paused: this.isPaused(),
    };
  }

  view(): MemberCreditsView {
    return {
      teamId: this.s.identity.teamId,
      userId: this.s.identity.userId,
      planId: this.s.identity.plan.planId,
      balance: this.balance(),
      notificationsSent: [...this.s.notified],
      removed: this.s.removed,
      openLeases: this.s.leases.map((l) => ({ ...l })),
      pendingRecords: this.s.pendingRecords.length,
      pendingDeliveries: this.pendingDeliveries(),
      carriedBytes: JSON.stringify(this.snapshot()).length,
    };
  }

  // ---- internals ----

  private used(): number {
    return this.s.usedAllowance + this.s.usedPurchased;
  }
  private total(): number {
    return this.s.allowance + this.s.purchased;
  }
  /** What is left to spend: not used and not held by a reservation. */
  private remaining(): number {
    return this.total() - this.used() - this.heldCredits();
  }
  private heldCredits(): number {
    return sum(this.s.holds.map((h) => h.allowance + h.purchased));
  }
  /**
   * The member's PAYG charge if `payg` more credits were spent, counting what holds may still spend as PAYG: what
   * was spent under earlier plans at their rates, the rest at the current plan's (each rounded once).
   */
  private chargeWith(payg: number): number {
    return this.paygChargeMinor(sum(this.s.holds.map((h) => h.payg)) + payg);
  }
  /** The PAYG charge of the period so far, plus `more` credits at the current rate. */
  private paygChargeMinor(more = 0): number {
    const plan = this.s.identity.plan;
    const earlier = this.s.paygAtEarlierRates;
    const atCurrentRate = this.s.paygCredits - sum(earlier.map((r) => r.millicredits)) + more;
    return (
      sum(earlier.map((r) => paygChargeMinor(r.millicredits, r.rateMicrosPerCredit, plan.currencyExponent))) +
      paygChargeMinor(atCurrentRate, plan.paygRateMicrosPerCredit, plan.currencyExponent)
    );
  }

  /** How `millicredits` would be paid now from what no lease or hold has: allowance, purchased, then PAYG. */
  private plan(millicredits: number): {
    fromAllowance: number;
    purchasedFree: number;
    fromPurchased: number;
    payg: number;
  } {
    const s = this.s;
    const heldAllowance = sum(s.holds.map((h) => h.allowance));
    const heldPurchased = sum(s.holds.map((h) => h.purchased));
    const allowanceFree = Math.max(0, s.allowance - s.usedAllowance - this.leasedAllowance() - heldAllowance);
    const purchasedFree = Math.max(
      0,
      s.purchased - s.usedPurchased - (this.leased() - this.leasedAllowance()) - heldPurchased,
    );
    const fromAllowance = Math.min(millicredits, allowanceFree);
    const fromPurchased = Math.min(millicredits - fromAllowance, purchasedFree);
    return { fromAllowance, purchasedFree, fromPurchased, payg: millicredits - fromAllowance - fromPurchased };
  }

  /**
   * Why `payg` credits of PAYG cannot be had now, if they cannot: PAYG off or unavailable, the member's monthly
   * cap, or the team's (as PostgreSQL answered). The member's cap is told to Billing once per period.
   */
  private refusal(payg: number, now: number, teamCapReached = false, notify = true): RefusalReason | undefined {
    if (payg === 0) return undefined;
    if (!this.paygActive()) return this.remaining() === 0 ? 'paused' : 'insufficient_credits';
    const cap = this.s.paygCapMinor;
    if (cap !== null && this.chargeWith(payg) > cap) {
      if (notify) this.notify('member_payg_cap', now);
      return 'payg_cap_reached';
    }
    if (!teamCapReached) return undefined;
    if (notify) this.notify('member_team_payg_cap', now);
    return 'team_payg_cap_reached';
  }

  private takeHold(reservationId: string): Hold {
    const i = this.s.holds.findIndex((h) => h.reservationId === reservationId);
    if (i < 0) {
      const done = this.s.remembered.find(
        (r) => (r.kind === 'settle' || r.kind === 'release') && r.requestId === reservationId,
      );
      const how = done?.kind === 'settle' ? 'settled' : (done?.result as ReleaseResult | undefined)?.how;
      throw new ReservationNotHeldError(reservationId, how);
    }
    const [hold] = this.s.holds.splice(i, 1);
    this.pushHeader();
    return hold;
  }

  private spendEntries(
    requestId: string,
    action: string,
    fromCredits: number,
    payg: number,
    now: number,
  ): LedgerEntry[] {
    const base = { requestId, action, occurredAt: now };
    const entries: LedgerEntry[] = [];
    if (fromCredits > 0) entries.push(this.entry({ ...base, kind: 'consume', millicredits: fromCredits }));
    if (payg > 0) entries.push(this.entry({ ...base, kind: 'payg', millicredits: payg }));
    return entries;
  }
  private leased(): number {
    return sum(this.s.leases.map((l) => l.credits));
  }
  private leasedAllowance(): number {
    return sum(this.s.leases.map((l) => l.allowanceCredits));
  }
  private paygActive(): boolean {
    return this.s.identity.plan.paygAvailable && this.s.paygEnabled;
  }
  /** PAYG credits of this period not on an invoice yet. */
  private unbilledPayg(): number {
    return this.s.paygCredits - this.s.paygBilled;
  }
  /** No credits left to spend and no PAYG: the agent is paused for this member. */
  private isPaused(): boolean {
    return this.remaining() <= 0 && !this.paygActive();
  }

  /**
   * The lowest point the workflow must decide at: the next notification threshold (75 %, 100 % of allowance +
   * purchases) not yet notified this period, and without PAYG the last credit (the consumption that pauses the
   * member comes here, so `member.paused` is decided when it happens).
   */
  private nextThreshold(): number | undefined {
    const total = this.total();
    if (total <= 0) return undefined;
    if (!this.s.notified.includes('member_75')) return Math.ceil((total * 75) / 100);
    if (!this.s.notified.includes('member_100') || !this.paygActive()) return total;
    return undefined;
  }

  private recall(kind: RequestKind, requestId: string, fingerprint: string): RememberedAnswer | undefined {
    const seen = this.s.remembered.find((r) => r.kind === kind && r.requestId === requestId);
    if (seen && seen.fingerprint !== fingerprint) {
      const what = { consume: 'requestId', purchase: 'purchaseId' }[kind as string] ?? `${kind} of reservationId`;
      throw new IdempotencyConflictError(`${what} ${requestId}`);
    }
    return seen;
  }

  private checkCapacity(requestId: string, kind: RequestKind): void {
    if (this.knows(kind, requestId)) return; // a repeat is free
    if (this.s.pendingRecords.length >= MAX_PENDING_RECORDS) {
      throw new BackpressureError(`${this.s.pendingRecords.length} ledger writes are`);
    }
    if (this.pendingDeliveries() >= MAX_PENDING_DELIVERIES) {
      throw new BackpressureError(`${this.pendingDeliveries()} charges and notifications are`);
    }
  }

  private remember(
    kind: RequestKind,
    requestId: string,
    fingerprint: string,
    result: RememberedAnswer['result'],
    now: number,
  ): void {
    // What PostgreSQL keeps of the answer: the decision, without the lease or the repeat flag.
    const { duplicate: _duplicate, ...kept } = result as ConsumeResult;
    const { lease: _lease, ...answer } = kept;
    const record = { kind, periodStart: this.s.periodStart, requestId, fingerprint, answer } as AnswerRecord;
    const seq = this.pushRecords({ answers: [record] });
    this.s.remembered.push({ kind, requestId, fingerprint, result, decidedAt: now, seq });
  }

  private scopeKey(): string {
    return `${memberKey(this.s.identity)}:${periodKey({ start: this.s.periodStart, end: this.s.periodEnd })}`;
  }

  private entry(e: Omit<LedgerEntry, 'entryKey' | 'teamId' | 'userId' | 'periodStart' | 'periodEnd'>): LedgerEntry {
    const where = {
      teamId: this.s.identity.teamId,
      userId: this.s.identity.userId,
      periodStart: this.s.periodStart,
      periodEnd: this.s.periodEnd,
    };
    return {
      entryKey: ledgerEntryKey({ ...where, kind: e.kind }, e.requestId ?? this.s.periodOpenedBy),
      ...where,
      ...e,
    };
  }

  private pushLedger(e: Omit<LedgerEntry, 'entryKey' | 'teamId' | 'userId' | 'periodStart' | 'periodEnd'>): void {
    this.pushRecords({ entries: [this.entry(e)] });
  }

  /** A change to the usage row's non-additive columns only. */
  private pushHeader(): void {
    this.pushRecords({});
  }

  /** Queue records; returns their sequence number (they are in PostgreSQL once `recordsWritten` reaches it). */
  private pushRecords(r: {
    entries?: LedgerEntry[];
    answers?: AnswerRecord[];
    leases?: BudgetLease[];
    events?: MemberEvent[];
  }): number {
    const seq = ++this.s.recordsPushed;
    this.s.pendingRecords.push({
      seq,
      entries: r.entries ?? [],
      answers: r.answers ?? [],
      leases: r.leases ?? [],
      ...(r.events ? { events: r.events } : {}),
    });
    return seq;
  }

  /** A webhook event, stored with the records of the decision that made it (its key makes it once). */
  private pushEvent(facts: MemberEventFacts, discriminator: string, now: number): void {
    const s = this.s;
    const event = {
      ...facts,
      eventKey: `${this.scopeKey()}:${facts.type}:${discriminator}`,
      teamId: s.identity.teamId,
      userId: s.identity.userId,
      periodStart: s.periodStart,
      periodEnd: s.periodEnd,
      planId: s.identity.plan.planId,
      currency: s.identity.plan.currency,
      occurredAt: now,
    } as MemberEvent;
    this.pushRecords({ events: [event] });
  }

  /**
   * After anything that changes what the member can spend: a member who became paused (no credits, no PAYG) or
   * can spend again is an event (`member.paused` / `member.resumed`) and an in-product alert, each with its reason.
   */
  private trackPause(now: number, onPause: PauseReason, onResume: ResumeReason): void {
    const s = this.s;
    const paused = this.isPaused();
    if (paused === s.paused) return;
    s.paused = paused;
    const n = ++s.pauseChanges;
    const reason = paused ? onPause : onResume;
    const kind = paused ? 'member_paused' : 'member_resumed';
    // The run that opened the period is in the key: a member removed and added again counts afresh.
    const discriminator = `${s.periodOpenedBy}:${n}`;
    this.pushEvent(
      paused ? { type: 'member.paused', reason: onPause } : { type: 'member.resumed', reason: onResume },
      discriminator,
      now,
    );
    s.pendingNotifications.push({
      ...this.notification(kind, now),
      notificationKey: `${this.scopeKey()}:${kind}:${discriminator}`,
      reason,
    });
  }

  private header(): UsageHeader {
    const s = this.s;
    return {
      teamId: s.identity.teamId,
      userId: s.identity.userId,
      periodStart: s.periodStart,
      periodEnd: s.periodEnd,
      planId: s.identity.plan.planId,
      currency: s.identity.plan.currency,
      paygEnabled: s.paygEnabled,
      paygAvailable: s.identity.plan.paygAvailable,
      paygChargeMinor: this.paygChargeMinor(),
      paygCapMinor: s.paygCapMinor,
      held: sum(s.holds.map(holdTotal)),
      heldPayg: sum(s.holds.map((h) => h.payg)),
      notified: [...s.notified],
      version: s.recordsPushed,
    };
  }

  private closePeriod(closedAt: number): void {
    const s = this.s;
    const unused = this.remaining();
    // The closing period's last figures travel with its expiry (the next header speaks of the next period).
    const entries = unused > 0 ? [this.entry({ kind: 'expire', millicredits: unused, occurredAt: closedAt })] : [];
    const seq = ++s.recordsPushed;
    s.pendingRecords.push({ seq, entries, answers: [], leases: [], header: { ...this.header(), version: seq } });
    // One charge per rate the period's PAYG was spent at (a plan upgrade changes it), each rounded once.
    const plan = s.identity.plan;
    const earlier = s.paygAtEarlierRates.filter((r) => r.millicredits > 0);
    const atCurrentRate = this.unbilledPayg() - sum(earlier.map((r) => r.millicredits));
    const charge = (millicredits: number, rate: number, keySuffix: string) =>
      s.pendingCharges.push({
        chargeKey: `${this.scopeKey()}:payg:${s.periodOpenedBy}${keySuffix}`,
        teamId: s.identity.teamId,
        userId: s.identity.userId,
        kind: 'payg',
        periodStart: s.periodStart,
        periodEnd: s.periodEnd,
        millicredits,
        rateMicrosPerCredit: rate,
        amountMinor: paygChargeMinor(millicredits, rate, plan.currencyExponent),
        currency: plan.currency,
        description: `AI credits pay-as-you-go for ${s.identity.userId} at ${formatRate(rate, plan.currency, plan.currencyExponent)} per credit`,
        occurredAt: closedAt,
      });
    for (const r of earlier) charge(r.millicredits, r.rateMicrosPerCredit, `:rate:${r.rateMicrosPerCredit}`);
    if (atCurrentRate > 0) charge(atCurrentRate, plan.paygRateMicrosPerCredit, '');
    s.paygBilled = s.paygCredits;
    s.paygAtEarlierRates = [];
  }

  private checkThresholds(now: number, firstPayg: boolean): void {
    const total = this.total();
    // A period without credits (a PAYG-only plan) has no 75 % or 100 %, but its first PAYG is still told.
    if (total > 0) {
      const used = this.used();
      if (used * 100 >= total * 75) this.notify('member_75', now);
      if (used >= total) this.notify('member_100', now);
    }
    if (firstPayg) this.notify('member_exceeded', now);
  }

  /** A notification sent at most once a period, with its webhook event. */
  private notify(kind: OncePerPeriodKind, now: number): void {
    const s = this.s;
    if (s.notified.includes(kind)) return;
    s.notified.push(kind);
    s.pendingNotifications.push(this.notification(kind, now));
    const used = this.used();
    const total = this.total();
    const continuesWithPayg = this.paygActive();
    switch (kind) {
      case 'member_75':
        return this.pushEvent(
          { type: 'member.threshold_reached', threshold: 75, used, total, continuesWithPayg },
          '75',
          now,
        );
      case 'member_100':
        return this.pushEvent(
          { type: 'member.threshold_reached', threshold: 100, used, total, continuesWithPayg },
          '100',
          now,
        );
      case 'member_exceeded':
        return this.pushEvent(
          { type: 'member.payg_started', rateMicrosPerCredit: s.identity.plan.paygRateMicrosPerCredit },
          'first',
          now,
        );
      case 'member_payg_cap':
        return this.pushEvent(
          { type: 'member.payg_cap_reached', scope: 'member', capMinor: s.paygCapMinor ?? 0 },
          'member',
          now,
        );
      case 'member_team_payg_cap':
        // The team's cap as it refused is in PostgreSQL; the event names the scope.
        return this.pushEvent({ type: 'member.payg_cap_reached', scope: 'team', capMinor: null }, 'team', now);
    }
  }

  private notification(kind: MemberNotification['kind'], now: number): MemberNotification {
    const s = this.s;
    return {
      notificationKey: `${this.scopeKey()}:${kind}`,
      teamId: s.identity.teamId,
      userId: s.identity.userId,
      kind,
      periodStart: s.periodStart,
      periodEnd: s.periodEnd,
      usedMillicredits: this.used(),
      totalMillicredits: this.total(),
      continuesWithPayg: this.paygActive(),
      currencyExponent: s.identity.plan.currencyExponent,
      occurredAt: now,
    };
  }
}

function validateRequestId(value: unknown, name: string, max = MAX_REQUEST_ID_LENGTH): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidMessageError(`${name} is required`);
  if (value.length > max) throw new InvalidMessageError(`${name} must be at most ${max} characters`);
  if (!REQUEST_ID_PATTERN.test(value)) throw new InvalidMessageError(`${name} must be printable ASCII without spaces`);
}

function validateMillicredits(value: unknown, max: number, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidMessageError(`${name} must be a positive amount with at most 3 decimals`);
  }
  if (value > max) throw new InvalidMessageError(`${name} exceeds the maximum of ${max / 1000} per request`);
}

function validateLeaseTraffic(input: ConsumeInput): void {
  if (typeof input.holder !== 'string' || input.holder.length === 0 || input.holder.length > 64) {
    throw new InvalidMessageError('holder is required');
  }
  const returned: unknown = input.returnLeases;
  if (returned === undefined) return;
  if (!Array.isArray(returned) || returned.length > MAX_RETURNED_LEASES) {
    throw new InvalidMessageError(`returnLeases must be a list of at most ${MAX_RETURNED_LEASES} leases`);
  }
  for (const r of returned as ReturnedLease[]) {
    if (typeof r?.leaseId !== 'string' || !Number.isSafeInteger(r.used) || r.used < 0) {
      throw new InvalidMessageError('returnLeases holds an invalid lease');
    }
  }
}

function holdTotal(h: Hold): number {
  return h.allowance + h.purchased + h.payg;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function structuredCloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

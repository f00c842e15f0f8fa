/**
 * One member's credits for one billing period: a plain class, deterministic, free of Temporal, so it can be
 * unit- and property-tested alone. The workflow owns one instance and feeds it messages and the clock.
 *
 * Everything that must reach PostgreSQL or a person leaves through three outboxes (ledger rows, invoice
 * charges, notifications). The workflow drains them with activities; because the outboxes are part of the
 * state (and so of history and of the continue-as-new input), an accepted consumption is never lost even when
 * the database is down for a while.
 */
import { paygChargeMinor } from '../domain/money';
import { nextPeriod, periodContaining, periodKey } from '../domain/periods';
import { isAgentAction } from '../domain/plans';
import type {
  Balance,
  ConsumeInput,
  ConsumeResult,
  InvoiceCharge,
  LedgerEntry,
  MemberCreditsView,
  MemberIdentity,
  MemberNotification,
  MemberNotificationKind,
  MemberSnapshot,
  PurchaseInput,
  PurchaseResult,
} from './types';

/** How many recent answers are kept for idempotency (per member, across periods and continue-as-new). */
export const IDEMPOTENCY_WINDOW = 1000;
export const MAX_REQUEST_ID_LENGTH = 128;
/** Most write-through acknowledgements one consumption may carry (the API sends what it wrote since the last one). */
export const MAX_WRITTEN_THROUGH_ACKS = 256;
const MAX_ENTRY_KEY_LENGTH = 512;
const REQUEST_ID_PATTERN = /^[\x21-\x7e]+$/;

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

export function memberKey(identity: Pick<MemberIdentity, 'teamId' | 'userId'>): string {
  return `${identity.teamId}/${identity.userId}`;
}

export class MemberCreditsState {
  private recentConsumptions = new Map<string, ConsumeResult>();
  private recentPurchases = new Map<string, PurchaseResult>();

  private constructor(private s: MemberSnapshot) {
    for (const r of s.recentConsumptions) this.recentConsumptions.set(r.requestId, r);
    for (const p of s.recentPurchases) this.recentPurchases.set(p.purchaseId, p);
  }

  /** A fresh period for a member who starts now (a new member gets the full allowance). */
  static open(identity: MemberIdentity, now: number, runId: string, paygEnabled?: boolean): MemberCreditsState {
    const period = periodContaining(now, identity.billingAnchorDay);
    const state = new MemberCreditsState({
      identity,
      periodStart: period.start,
      periodEnd: period.end,
      periodOpenedBy: runId,
      allowance: identity.plan.monthlyAllowance,
      purchased: 0,
      usedAllowance: 0,
      usedPurchased: 0,
      paygCredits: 0,
      paygEnabled: identity.plan.paygAvailable && (paygEnabled ?? true),
      notified: [],
      removed: false,
      recentConsumptions: [],
      recentPurchases: [],
      pendingLedger: [],
      pendingCharges: [],
      pendingNotifications: [],
      pendingEmails: [],
    });
    state.recordGrant(now);
    return state;
  }

  static fromSnapshot(snapshot: MemberSnapshot): MemberCreditsState {
    return new MemberCreditsState({ pendingEmails: [], ...structuredCloneJson(snapshot) });
  }

  snapshot(): MemberSnapshot {
    return structuredCloneJson({
      ...this.s,
      recentConsumptions: [...this.recentConsumptions.values()],
      recentPurchases: [...this.recentPurchases.values()],
    });
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

  // ---- validation (called from update validators: throwing keeps the message out of history) ----

  validateConsume(input: ConsumeInput): void {
    if (this.s.removed) throw new MemberRemovedError();
    validateRequestId(input?.requestId, 'requestId');
    if (!isAgentAction(input.action)) throw new InvalidMessageError(`unknown action: ${String(input.action)}`);
    validateMillicredits(input.millicredits, this.s.identity.plan.maxCreditsPerAction, 'credits');
    const acks: unknown = input.writtenThrough;
    if (acks === undefined) return;
    if (!Array.isArray(acks) || acks.length > MAX_WRITTEN_THROUGH_ACKS) {
      throw new InvalidMessageError(`writtenThrough must be a list of at most ${MAX_WRITTEN_THROUGH_ACKS} entry keys`);
    }
    for (const key of acks) {
      if (typeof key !== 'string' || key.length === 0 || key.length > MAX_ENTRY_KEY_LENGTH) {
        throw new InvalidMessageError('writtenThrough holds an invalid entry key');
      }
    }
  }

  validatePurchase(input: PurchaseInput): void {
    if (this.s.removed) throw new MemberRemovedError();
    if (!this.s.identity.plan.purchasesAllowed) {
      throw new NotAllowedError(`plan ${this.s.identity.plan.planId} does not allow credit purchases`);
    }
    validateRequestId(input?.purchaseId, 'purchaseId');
    validateMillicredits(input.millicredits, this.s.identity.plan.maxPurchase, 'credits');
  }

  validateSetPayg(enabled: unknown): void {
    if (this.s.removed) throw new MemberRemovedError();
    if (typeof enabled !== 'boolean') throw new InvalidMessageError('enabled must be a boolean');
    if (enabled && !this.s.identity.plan.paygAvailable) {
      throw new NotAllowedError(`pay-as-you-go is not available on plan ${this.s.identity.plan.planId}`);
    }
  }

  // ---- messages ----

  consume(input: ConsumeInput, now: number): ConsumeResult {
    const seen = this.recentConsumptions.get(input.requestId);
    if (seen) return { ...seen, duplicate: true };

    const s = this.s;
    const fromAllowance = Math.min(input.millicredits, s.allowance - s.usedAllowance);
    const fromPurchased = Math.min(input.millicredits - fromAllowance, s.purchased - s.usedPurchased);
    const shortfall = input.millicredits - fromAllowance - fromPurchased;

    let result: ConsumeResult;
    if (shortfall > 0 && !this.paygActive()) {
      result = {
        requestId: input.requestId,
        decision: 'refused',
        reason: this.remaining() === 0 ? 'paused' : 'insufficient_credits',
        charged: { allowance: 0, purchased: 0, payg: 0 },
        balance: this.balance(),
        duplicate: false,
      };
    } else {
      const firstPayg = shortfall > 0 && s.paygCredits === 0;
      s.usedAllowance += fromAllowance;
      s.usedPurchased += fromPurchased;
      s.paygCredits += shortfall;
      const base = { requestId: input.requestId, action: input.action, occurredAt: now };
      if (fromAllowance + fromPurchased > 0) {
        this.pushLedger({ ...base, kind: 'consume', millicredits: fromAllowance + fromPurchased });
      }
      if (shortfall > 0) this.pushLedger({ ...base, kind: 'payg', millicredits: shortfall });
      this.checkThresholds(now, firstPayg);
      result = {
        requestId: input.requestId,
        decision: shortfall > 0 ? 'allowed_payg' : 'allowed',
        charged: { allowance: fromAllowance, purchased: fromPurchased, payg: shortfall },
        balance: this.balance(),
        duplicate: false,
      };
    }
    remember(this.recentConsumptions, input.requestId, result);
    return result;
  }

  setPayg(enabled: boolean): Balance {
    this.s.paygEnabled = enabled && this.s.identity.plan.paygAvailable;
    return this.balance();
  }

  purchase(input: PurchaseInput, now: number): PurchaseResult {
    const seen = this.recentPurchases.get(input.purchaseId);
    if (seen) return { ...seen, duplicate: true };
    const plan = this.s.identity.plan;
    const amountMinor = paygChargeMinor(input.millicredits, plan.purchaseRateMicrosPerCredit, plan.currencyExponent);
    this.s.purchased += input.millicredits;
    this.pushLedger({
      kind: 'purchase',
      requestId: input.purchaseId,
      millicredits: input.millicredits,
      amountMinor,
      currency: plan.currency,
      occurredAt: now,
    });
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
      balance: this.balance(),
      duplicate: false,
    };
    remember(this.recentPurchases, input.purchaseId, result);
    return result;
  }

  /**
   * Close the current period (expire what is left, bill PAYG) and open the next one with a fresh allowance.
   * The PAYG setting carries over; notifications and counters reset. Called once per elapsed period.
   */
  rollOver(runId: string): void {
    const closedAt = this.s.periodEnd;
    this.closePeriod(closedAt);
    const next = nextPeriod({ start: this.s.periodStart, end: this.s.periodEnd }, this.s.identity.billingAnchorDay);
    Object.assign(this.s, {
      periodStart: next.start,
      periodEnd: next.end,
      periodOpenedBy: runId,
      allowance: this.s.identity.plan.monthlyAllowance,
      purchased: 0,
      usedAllowance: 0,
      usedPurchased: 0,
      paygCredits: 0,
      notified: [],
    });
    this.recordGrant(next.start);
  }

  /** A removed member: the period closes now, early, and the state accepts nothing more. */
  remove(now: number): void {
    if (this.s.removed) return;
    this.closePeriod(now);
    this.s.removed = true;
  }

  // ---- outboxes ----

  get pendingLedger(): readonly LedgerEntry[] {
    return this.s.pendingLedger;
  }
  get pendingCharges(): readonly InvoiceCharge[] {
    return this.s.pendingCharges;
  }
  get pendingNotifications(): readonly MemberNotification[] {
    return this.s.pendingNotifications;
  }
  get pendingEmails(): readonly string[] {
    return this.s.pendingEmails ?? [];
  }
  /** Emails an activity queued in PostgreSQL (the team PAYG threshold) that still have to be delivered. */
  queueEmails(keys: readonly string[]): void {
    const pending = (this.s.pendingEmails ??= []);
    for (const key of keys) if (!pending.includes(key)) pending.push(key);
  }
  hasPendingWork(): boolean {
    return this.pendingLedger.length + this.pendingDeliveries() > 0;
  }
  /** Invoice charges, notifications and queued emails not delivered yet. */
  pendingDeliveries(): number {
    return this.s.pendingCharges.length + this.s.pendingNotifications.length + this.pendingEmails.length;
  }
  /** Drop the first `count` entries once an activity has stored them (the lane before the write-through). */
  ackLedgerCount(count: number): void {
    this.s.pendingLedger.splice(0, count);
  }
  /** Drop the entries an activity has stored (by key: acknowledgements may have removed some meanwhile). */
  ackLedger(keys: readonly string[]): void {
    const written = new Set(keys);
    this.s.pendingLedger = this.s.pendingLedger.filter((e) => !written.has(e.entryKey));
  }
  /**
   * Drop `consume` entries the caller reports it has written through. Other kinds stay: grants, expiries and
   * purchases are written by the workflow only, and a PAYG row's write also checks the team's PAYG threshold.
   */
  acknowledgeWrittenThrough(keys: readonly string[]): void {
    if (keys.length === 0) return;
    const written = new Set(keys);
    this.s.pendingLedger = this.s.pendingLedger.filter((e) => e.kind !== 'consume' || !written.has(e.entryKey));
  }
  /** An entry that the workflow writes at once (anything but a `consume` row, which may wait for the caller). */
  hasUrgentLedger(): boolean {
    return this.s.pendingLedger.some((e) => e.kind !== 'consume');
  }
  /** When the oldest pending ledger entry happened (undefined when none is pending). */
  oldestPendingLedgerAt(): number | undefined {
    let oldest: number | undefined;
    for (const e of this.s.pendingLedger) if (oldest === undefined || e.occurredAt < oldest) oldest = e.occurredAt;
    return oldest;
  }
  ackCharges(count: number): void {
    this.s.pendingCharges.splice(0, count);
  }
  ackEmails(count: number): void {
    this.s.pendingEmails?.splice(0, count);
  }
  ackNotifications(count: number): void {
    this.s.pendingNotifications.splice(0, count);
  }

  // ---- reading ----

  balance(): Balance {
    const s = this.s;
    const plan = s.identity.plan;
    return {
      periodStart: s.periodStart,
      periodEnd: s.periodEnd,
      allowance: s.allowance,
      purchased: s.purchased,
      used: s.usedAllowance + s.usedPurchased,
      remaining: this.remaining(),
      paygEnabled: s.paygEnabled,
      paygAvailable: plan.paygAvailable,
      paygCredits: s.paygCredits,
      paygChargeMinor: paygChargeMinor(s.paygCredits, plan.paygRateMicrosPerCredit, plan.currencyExponent),
      currency: plan.currency,
      paused: this.remaining() === 0 && !this.paygActive(),
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
      pendingLedgerWrites: this.s.pendingLedger.length,
      pendingDeliveries: this.pendingDeliveries(),
    };
  }

  // ---- internals ----

  private remaining(): number {
    return this.s.allowance + this.s.purchased - this.s.usedAllowance - this.s.usedPurchased;
  }

  private paygActive(): boolean {
    return this.s.identity.plan.paygAvailable && this.s.paygEnabled;
  }

  private scopeKey(): string {
    return `${memberKey(this.s.identity)}:${periodKey({ start: this.s.periodStart, end: this.s.periodEnd })}`;
  }

  private pushLedger(entry: Omit<LedgerEntry, 'entryKey' | 'teamId' | 'userId' | 'periodStart' | 'periodEnd'>): void {
    const discriminator = entry.requestId ?? this.s.periodOpenedBy;
    this.s.pendingLedger.push({
      entryKey: `${this.scopeKey()}:${entry.kind}:${discriminator}`,
      teamId: this.s.identity.teamId,
      userId: this.s.identity.userId,
      periodStart: this.s.periodStart,
      periodEnd: this.s.periodEnd,
      ...entry,
    });
  }

  private recordGrant(now: number): void {
    if (this.s.allowance > 0) this.pushLedger({ kind: 'grant', millicredits: this.s.allowance, occurredAt: now });
  }

  private closePeriod(closedAt: number): void {
    const s = this.s;
    const unused = this.remaining();
    if (unused > 0) this.pushLedger({ kind: 'expire', millicredits: unused, occurredAt: closedAt });
    if (s.paygCredits > 0) {
      const plan = s.identity.plan;
      s.pendingCharges.push({
        chargeKey: `${this.scopeKey()}:payg:${s.periodOpenedBy}`,
        teamId: s.identity.teamId,
        userId: s.identity.userId,
        kind: 'payg',
        periodStart: s.periodStart,
        periodEnd: s.periodEnd,
        millicredits: s.paygCredits,
        rateMicrosPerCredit: plan.paygRateMicrosPerCredit,
        amountMinor: paygChargeMinor(s.paygCredits, plan.paygRateMicrosPerCredit, plan.currencyExponent),
        currency: plan.currency,
        description: `AI credits pay-as-you-go for ${s.identity.userId}`,
        occurredAt: closedAt,
      });
    }
  }

  private checkThresholds(now: number, firstPayg: boolean): void {
    const s = this.s;
    const total = s.allowance + s.purchased;
    if (total <= 0) return;
    const used = s.usedAllowance + s.usedPurchased;
    if (used * 100 >= total * 75) this.notify('member_75', now);
    if (used >= total) this.notify('member_100', now);
    if (firstPayg) this.notify('member_exceeded', now);
  }

  private notify(kind: MemberNotificationKind, now: number): void {
    const s = this.s;
    if (s.notified.includes(kind)) return;
    s.notified.push(kind);
    s.pendingNotifications.push({
      notificationKey: `${this.scopeKey()}:${kind}`,
      teamId: s.identity.teamId,
      userId: s.identity.userId,
      kind,
      periodStart: s.periodStart,
      periodEnd: s.periodEnd,
      usedMillicredits: s.usedAllowance + s.usedPurchased,
      totalMillicredits: s.allowance + s.purchased,
      continuesWithPayg: this.paygActive(),
      occurredAt: now,
    });
  }
}

function validateRequestId(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidMessageError(`${name} is required`);
  if (value.length > MAX_REQUEST_ID_LENGTH) {
    throw new InvalidMessageError(`${name} must be at most ${MAX_REQUEST_ID_LENGTH} characters`);
  }
  if (!REQUEST_ID_PATTERN.test(value)) throw new InvalidMessageError(`${name} must be printable ASCII without spaces`);
}

function validateMillicredits(value: unknown, max: number, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidMessageError(`${name} must be a positive amount with at most 3 decimals`);
  }
  if (value > max) throw new InvalidMessageError(`${name} exceeds the maximum of ${max / 1000} per request`);
}

function remember<T>(map: Map<string, T>, key: string, value: T): void {
  map.set(key, value);
  if (map.size > IDEMPOTENCY_WINDOW) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
}

function structuredCloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

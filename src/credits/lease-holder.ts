/**
 * The consumption hot path (spec §13). This API instance holds at most one budget lease per member, handed out by
 * the member's workflow; a consumption that fits in it is one PostgreSQL statement and no Temporal call
 * (`CreditStore.spendFromLease`). Anything else goes to the workflow in one Update, which decides it (PAYG,
 * refusal, the threshold crossing), takes the old lease back and hands out the next.
 *
 * Safe with any number of API instances: the lease row in PostgreSQL bounds what can be spent from it and stops
 * all spending once the workflow closes it, and a request id is claimed in PostgreSQL before anything is decided,
 * so one id is decided once whichever instance receives it.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { consumeFingerprint } from '../../workflows/member-credits/state';
import type { BudgetLease } from '../../workflows/member-credits/types';
import { memberWorkflowId } from '../../workflows/ids';
import type { ConsumeAnswer, CreditStore, StoredAnswer } from '../db/credit-store';
import { CreditsError } from '../errors';
import { LookAgain, type MemberClient } from '../temporal/member-client';

/** A lease is not spent from in its last second: PostgreSQL's clock decides, and may run a little ahead. */
const EXPIRY_MARGIN_MS = 1_000;
/** After the workflow had no lease to give, how long consumptions go to it directly before asking again. */
export const NO_LEASE_BACKOFF_MS = 1_000;

export interface ConsumeRequest {
  requestId: string;
  action: string;
  millicredits: number;
}

interface HeldLease extends BudgetLease {
  /** What this process has spent or is spending from it (PostgreSQL holds the truth). */
  spent: number;
}

export class LeaseHolder {
  /** This process, as the workflows know it: leases are handed to it by this name. */
  readonly holderId = `${hostname().slice(0, 32)}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly leases = new Map<string, HeldLease>();
  /** Per member: the Update now asking for a lease (others wait for it, then try the new lease). */
  private readonly renewals = new Map<string, Promise<void>>();
  private readonly noLeaseUntil = new Map<string, number>();

  constructor(
    private readonly store: CreditStore,
    private readonly members: MemberClient,
  ) {}

  async consume(teamId: string, userId: string, request: ConsumeRequest): Promise<ConsumeAnswer> {
    const key = memberWorkflowId(teamId, userId);
    const fingerprint = consumeFingerprint(request.action, request.millicredits);
    for (;;) {
      const lease = this.usableLease(key, request.millicredits);
      if (lease) {
        lease.spent += request.millicredits;
        const r = await this.store.spendFromLease(lease, { ...request, fingerprint }, key);
        if (r.outcome === 'spent') return r.answer;
        lease.spent -= request.millicredits;
        if (r.outcome === 'seen') return this.repeat(teamId, userId, request, r.stored, fingerprint);
        if (this.leases.get(key) === lease) this.leases.delete(key); // exhausted, expired or taken back
      }
      const renewal = this.renewals.get(key);
      if (renewal) {
        await renewal; // a lease may be coming: try it
        continue;
      }
      return this.decideInWorkflow(teamId, userId, request, fingerprint);
    }
  }

  /** The workflow decides: claim the request id, give back the lease held, maybe take a new one, one Update. */
  private async decideInWorkflow(
    teamId: string,
    userId: string,
    request: ConsumeRequest,
    fingerprint: string,
  ): Promise<ConsumeAnswer> {
    const key = memberWorkflowId(teamId, userId);
    const ref = { teamId, userId, kind: 'consume' as const, requestId: request.requestId, fingerprint };
    const wantLease = (this.noLeaseUntil.get(key) ?? 0) <= Date.now();
    let renewed: () => void = () => undefined;
    if (wantLease) this.renewals.set(key, new Promise<void>((resolve) => (renewed = resolve)));
    try {
      for (let attempt = 1; ; attempt++) {
        const stored = await this.store.claim(ref);
        if (stored?.status === 'done') return answerOf(stored, fingerprint);
        if (stored && stored.fingerprint !== fingerprint) throw reused(request.requestId);
        const held = wantLease ? this.leases.get(key) : undefined;
        if (held) this.leases.delete(key);
        const returnLeases = held ? [await this.store.returnLease(held)] : [];
        try {
          const result = await this.members.consume(teamId, userId, {
            ...request,
            holder: this.holderId,
            returnLeases,
            wantLease,
          });
          if (result.lease) this.leases.set(key, { ...result.lease, spent: 0 });
          else if (wantLease) this.noLeaseUntil.set(key, Date.now() + NO_LEASE_BACKOFF_MS);
        } catch (err) {
          if (err instanceof LookAgain && attempt < 3) continue;
          throw err;
        }
        const answer = await this.store.answer(ref);
        if (answer?.status !== 'done') throw new CreditsError('unavailable', 'the answer is not recorded yet; retry');
        return answerOf(answer, fingerprint);
      }
    } finally {
      if (wantLease) {
        this.renewals.delete(key);
        renewed();
      }
    }
  }

  /** A request id seen before: its first answer, or (still on its way through the workflow) the workflow's. */
  private async repeat(
    teamId: string,
    userId: string,
    request: ConsumeRequest,
    stored: StoredAnswer,
    fingerprint: string,
  ): Promise<ConsumeAnswer> {
    if (stored.fingerprint !== fingerprint) throw reused(request.requestId);
    if (stored.status === 'done') return answerOf(stored, fingerprint);
    return this.decideInWorkflow(teamId, userId, request, fingerprint);
  }

  private usableLease(key: string, millicredits: number): HeldLease | undefined {
    const lease = this.leases.get(key);
    if (!lease) return undefined;
    if (lease.expiresAt - EXPIRY_MARGIN_MS <= Date.now()) return undefined;
    return lease.credits - lease.spent >= millicredits ? lease : undefined;
  }

  /** Leases this process holds now (tests and metrics). */
  heldLeases(): BudgetLease[] {
    return [...this.leases.values()].map(({ spent: _spent, ...lease }) => lease);
  }
}

function answerOf(stored: StoredAnswer & { status: 'done' }, fingerprint: string): ConsumeAnswer {
  if (stored.fingerprint !== fingerprint) throw reused('this requestId');
  return stored.answer as ConsumeAnswer;
}

function reused(requestId: string): CreditsError {
  return new CreditsError(
    'idempotency_key_reused',
    `requestId ${requestId} was used before with a different action or amount`,
  );
}

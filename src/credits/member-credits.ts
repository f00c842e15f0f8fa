/**
 * The member credits as the API serves them: reads from PostgreSQL (balances, the team's usage), and the
 * workflow's decisions that are not consumptions (purchases, the PAYG switch, removal), each answered from
 * PostgreSQL once the workflow has written it. Consumptions go through the `LeaseHolder`.
 */
import { periodContaining } from '../../workflows/domain/periods';
import type { PlanTerms } from '../../workflows/domain/plans';
import {
  purchaseFingerprint,
  RELEASE_FINGERPRINT,
  reserveFingerprint,
  settleFingerprint,
} from '../../workflows/member-credits/state';
import type { Balance } from '../../workflows/member-credits/types';
import type {
  CreditStore,
  PurchaseAnswerRow,
  ReleaseAnswer,
  RequestRef,
  ReservationAnswer,
  SettleAnswer,
  TeamUsagePage,
} from '../db/credit-store';

type TeamUsageMember = TeamUsagePage['members'][number];
import type { Team, TeamStore } from '../db/team-store';
import { CreditsError } from '../errors';
import { LookAgain, type MemberClient } from '../temporal/member-client';
import type { ConsumeRequest, LeaseHolder } from './lease-holder';
import type { WorkflowInputs } from './workflow-inputs';

export interface MemberBalance {
  planId: string;
  notified: string[];
  balance: Balance;
}

export class MemberCredits {
  constructor(
    private readonly store: CreditStore,
    private readonly teams: TeamStore,
    private readonly inputs: WorkflowInputs,
    readonly members: MemberClient,
    readonly leases: LeaseHolder,
  ) {}

  consume(teamId: string, userId: string, request: ConsumeRequest) {
    return this.leases.consume(teamId, userId, request);
  }

  /** Credits bought for the member's current period; a repeated purchase id gets its first answer (`duplicate`). */
  purchase(
    teamId: string,
    userId: string,
    purchaseId: string,
    millicredits: number,
  ): Promise<PurchaseAnswerRow & { duplicate: boolean }> {
    return this.decided(
      { teamId, userId, kind: 'purchase', requestId: purchaseId, fingerprint: purchaseFingerprint(millicredits) },
      `purchaseId ${purchaseId} was used before with another amount`,
      () => this.members.purchase(teamId, userId, { purchaseId, millicredits }),
    );
  }

  /** Credits set aside for an action (spec §14); a repeated reservation id gets its first answer. */
  reserve(
    teamId: string,
    userId: string,
    input: { reservationId: string; action: string; millicredits: number; ttlMs: number },
  ): Promise<ReservationAnswer & { duplicate: boolean }> {
    return this.decided(
      {
        teamId,
        userId,
        kind: 'reserve',
        requestId: input.reservationId,
        fingerprint: reserveFingerprint(input.action, input.millicredits),
      },
      `reservationId ${input.reservationId} was used before with another action or amount`,
      () => this.members.reserve(teamId, userId, input),
    );
  }

  /** The real cost of a reserved action; the same settle again gets its first answer, another amount 409. */
  settle(
    teamId: string,
    userId: string,
    reservationId: string,
    millicredits: number,
  ): Promise<SettleAnswer & { duplicate: boolean }> {
    return this.decided(
      { teamId, userId, kind: 'settle', requestId: reservationId, fingerprint: settleFingerprint(millicredits) },
      `reservation ${reservationId} was settled before with another amount`,
      () =>
        this.notHeldAsConflict(
          teamId,
          userId,
          reservationId,
          this.members.settle(teamId, userId, { reservationId, millicredits }),
        ),
    );
  }

  /** A reservation given back unused (a release after its expiry answers `expired`). */
  release(teamId: string, userId: string, reservationId: string): Promise<ReleaseAnswer & { duplicate: boolean }> {
    return this.decided(
      { teamId, userId, kind: 'release', requestId: reservationId, fingerprint: RELEASE_FINGERPRINT },
      'unreachable: a release has one body',
      () => this.notHeldAsConflict(teamId, userId, reservationId, this.members.release(teamId, userId, reservationId)),
    );
  }

  /**
   * A workflow decision that is not a consumption, answered from PostgreSQL: claim the id (a repeat finds the first
   * answer there, another body is a 409), ask the workflow, read the answer it wrote.
   */
  private async decided<T>(
    ref: RequestRef,
    conflict: string,
    ask: () => Promise<{ duplicate: boolean }>,
  ): Promise<T & { duplicate: boolean }> {
    for (let attempt = 1; ; attempt++) {
      const stored = await this.store.claim(ref);
      if (stored && stored.fingerprint !== ref.fingerprint) throw new CreditsError('idempotency_key_reused', conflict);
      if (stored?.status === 'done') return { ...(stored.answer as T), duplicate: true };
      try {
        const result = await ask();
        const answer = await this.store.answer(ref);
        if (answer?.status !== 'done') throw new CreditsError('unavailable', 'the answer is not recorded yet; retry');
        return { ...(answer.answer as T), duplicate: result.duplicate };
      } catch (err) {
        if (err instanceof LookAgain && attempt < 3) continue;
        throw err;
      }
    }
  }

  /** Settling or releasing what is not held: 409 for a reservation that was made, 404 for one that never was. */
  private async notHeldAsConflict<T>(
    teamId: string,
    userId: string,
    reservationId: string,
    sent: Promise<T>,
  ): Promise<T> {
    try {
      return await sent;
    } catch (err) {
      if (!(err instanceof CreditsError && err.code === 'reservation_not_held')) throw err;
      const made = await this.store.answer({ teamId, userId, kind: 'reserve', requestId: reservationId });
      if (made?.status === 'done' && (made.answer as ReservationAnswer).decision === 'held') throw err;
      throw new CreditsError('not_found', `reservation ${reservationId} not found`);
    }
  }

  /** PAYG on or off and the member's cap, applied by the workflow (the route keeps them on the member first). */
  async setPayg(
    teamId: string,
    userId: string,
    setting: { enabled?: boolean; monthlyCapMinor?: number | null },
  ): Promise<MemberBalance> {
    await this.members.setPayg(teamId, userId, setting);
    return this.balance(teamId, userId);
  }

  /** The member's balance this period, from PostgreSQL (a period nothing was written for yet: a fresh one). */
  async balance(teamId: string, userId: string): Promise<MemberBalance> {
    const { team, plan } = await this.inputs.teamAndPlan(teamId);
    const period = periodContaining(Date.now(), team.billingAnchorDay);
    const usage = await this.store.usage(teamId, userId, period.start);
    if (usage) return { planId: usage.planId ?? plan.planId, notified: usage.notified, balance: usage.balance };
    const member = await this.teams.getMember(teamId, userId);
    return { planId: plan.planId, notified: [], balance: freshBalance(plan, period, member) };
  }

  /** Holds the member workflows released at expiry so far, all members (for `/metrics`). */
  reservationsExpired(): Promise<number> {
    return this.store.reservationsExpired();
  }

  async accruingPayg(teamId: string) {
    const { team } = await this.inputs.teamAndPlan(teamId);
    return this.store.accruingPayg(teamId, periodContaining(Date.now(), team.billingAnchorDay).start);
  }

  /** One page of the team's members with their balances this period (one query). */
  async teamUsage(
    teamId: string,
    page: { limit: number; cursor?: string; q?: string },
  ): Promise<{ team: Team; plan: PlanTerms; page: TeamUsagePage; balanceOf: (m: TeamUsageMember) => Balance }> {
    const { team, plan } = await this.inputs.teamAndPlan(teamId);
    const period = periodContaining(Date.now(), team.billingAnchorDay);
    return {
      team,
      plan,
      page: await this.store.teamUsage(teamId, period.start, page),
      balanceOf: (m) => m.usage?.balance ?? freshBalance(plan, period, m),
    };
  }
}

/** A period nobody has written anything for yet: the full allowance, nothing spent. */
function freshBalance(
  plan: PlanTerms,
  period: { start: number; end: number },
  member: { paygEnabled: boolean | null; paygCapMinor: number | null } | null,
): Balance {
  const payg = plan.paygAvailable && (member?.paygEnabled ?? true);
  return {
    periodStart: period.start,
    periodEnd: period.end,
    allowance: plan.monthlyAllowance,
    purchased: 0,
    used: 0,
    remaining: plan.monthlyAllowance,
    paygEnabled: payg,
    paygAvailable: plan.paygAvailable,
    paygCredits: 0,
    paygChargeMinor: 0,
    paygCapMinor: member?.paygCapMinor ?? null,
    held: 0,
    currency: plan.currency,
    paused: plan.monthlyAllowance === 0 && !payg,
  };
}

/**
 * The member credits as the API serves them: reads from PostgreSQL (balances, the team's usage), and the
 * workflow's decisions that are not consumptions (purchases, the PAYG switch, removal), each answered from
 * PostgreSQL once the workflow has written it. Consumptions go through the `LeaseHolder`.
 */
import { periodContaining } from '../../workflows/domain/periods';
import type { PlanTerms } from '../../workflows/domain/plans';
import { purchaseFingerprint } from '../../workflows/member-credits/state';
import type { Balance } from '../../workflows/member-credits/types';
import type { CreditStore, MemberUsage, PurchaseAnswerRow, TeamUsagePage } from '../db/credit-store';
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
  async purchase(
    teamId: string,
    userId: string,
    purchaseId: string,
    millicredits: number,
  ): Promise<PurchaseAnswerRow & { duplicate: boolean }> {
    const ref = {
      teamId,
      userId,
      kind: 'purchase' as const,
      requestId: purchaseId,
      fingerprint: purchaseFingerprint(millicredits),
    };
    for (let attempt = 1; ; attempt++) {
      const stored = await this.store.claim(ref);
      if (stored && stored.fingerprint !== ref.fingerprint) {
        throw new CreditsError(
          'idempotency_key_reused',
          `purchaseId ${purchaseId} was used before with another amount`,
        );
      }
      if (stored?.status === 'done') return { ...(stored.answer as PurchaseAnswerRow), duplicate: true };
      try {
        const result = await this.members.purchase(teamId, userId, { purchaseId, millicredits });
        const answer = await this.store.answer(ref);
        if (answer?.status !== 'done') throw new CreditsError('unavailable', 'the purchase is not recorded yet; retry');
        return { ...(answer.answer as PurchaseAnswerRow), duplicate: result.duplicate };
      } catch (err) {
        if (err instanceof LookAgain && attempt < 3) continue;
        throw err;
      }
    }
  }

  /** PAYG on or off, kept on the member (a member removed and added again keeps it) and applied by the workflow. */
  async setPayg(teamId: string, userId: string, enabled: boolean): Promise<MemberBalance> {
    await this.teams.setPayg(teamId, userId, enabled);
    await this.members.setPayg(teamId, userId, enabled);
    return this.balance(teamId, userId);
  }

  /** The member's balance this period, from PostgreSQL (a period nothing was written for yet: a fresh one). */
  async balance(teamId: string, userId: string): Promise<MemberBalance> {
    const { team, plan } = await this.inputs.teamAndPlan(teamId);
    const period = periodContaining(Date.now(), team.billingAnchorDay);
    const usage = await this.store.usage(teamId, userId, period.start);
    if (usage) return { planId: usage.planId ?? plan.planId, notified: usage.notified, balance: usage.balance };
    const member = await this.teams.getMember(teamId, userId);
    return { planId: plan.planId, notified: [], balance: freshBalance(plan, period, member?.paygEnabled ?? null) };
  }

  async accruingPayg(teamId: string) {
    const { team } = await this.inputs.teamAndPlan(teamId);
    return this.store.accruingPayg(teamId, periodContaining(Date.now(), team.billingAnchorDay).start);
  }

  /** One page of the team's members with their balances this period (one query). */
  async teamUsage(
    teamId: string,
    page: { limit: number; cursor?: string; q?: string },
  ): Promise<{ team: Team; plan: PlanTerms; page: TeamUsagePage; fresh: (usage: MemberUsage | null) => Balance }> {
    const { team, plan } = await this.inputs.teamAndPlan(teamId);
    const period = periodContaining(Date.now(), team.billingAnchorDay);
    return {
      team,
      plan,
      page: await this.store.teamUsage(teamId, period.start, page),
      fresh: (usage) => usage?.balance ?? freshBalance(plan, period, null),
    };
  }
}

/** A period nobody has written anything for yet: the full allowance, nothing spent. */
function freshBalance(plan: PlanTerms, period: { start: number; end: number }, paygEnabled: boolean | null): Balance {
  const payg = plan.paygAvailable && (paygEnabled ?? true);
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
    currency: plan.currency,
    paused: plan.monthlyAllowance === 0 && !payg,
  };
}

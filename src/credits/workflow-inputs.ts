/** What member and team workflows start with, read from PostgreSQL and the plan catalogue. */
import { periodContaining } from '../../workflows/domain/periods';
import type { PlanTerms } from '../../workflows/domain/plans';
import type { MemberWorkflowInput } from '../../workflows/member-credits/types';
import type { TeamBillingInput } from '../../workflows/team-billing/types';
import type { CreditStore } from '../db/credit-store';
import type { Team, TeamStore } from '../db/team-store';
import { CreditsError } from '../errors';
import type { PlanCatalogue } from '../plans';
import type { MemberStarts } from '../temporal/member-client';

export const DEFAULT_INVOICE_GRACE_MS = 60 * 60 * 1000;

export class WorkflowInputs implements MemberStarts {
  constructor(
    private readonly store: CreditStore,
    private readonly teams: TeamStore,
    private readonly plans: PlanCatalogue,
    private readonly invoiceGraceMs = DEFAULT_INVOICE_GRACE_MS,
  ) {}

  async memberInput(teamId: string, userId: string): Promise<MemberWorkflowInput> {
    const [{ team, plan }, member] = await Promise.all([
      this.teamAndPlan(teamId),
      this.teams.getMember(teamId, userId),
    ]);
    if (!member || member.status !== 'active') {
      throw new CreditsError('not_found', `member ${userId} not found in team ${teamId}`);
    }
    const period = periodContaining(Date.now(), team.billingAnchorDay);
    const resume = await this.store.resumable(teamId, userId, period.start);
    return {
      teamId,
      userId,
      billingAnchorDay: team.billingAnchorDay,
      plan,
      ...(member.paygEnabled === null ? {} : { paygEnabled: member.paygEnabled }),
      ...(resume ? { resume } : {}),
    };
  }

  async teamInput(teamId: string): Promise<TeamBillingInput> {
    const { team } = await this.teamAndPlan(teamId);
    return {
      teamId,
      billingAnchorDay: team.billingAnchorDay,
      currency: team.currency,
      invoiceGraceMs: this.invoiceGraceMs,
    };
  }

  async teamAndPlan(teamId: string): Promise<{ team: Team; plan: PlanTerms }> {
    const team = await this.teams.getTeam(teamId);
    if (!team) throw new CreditsError('not_found', `team ${teamId} not found`);
    const plan = this.plans.get(team.plan);
    if (!plan) throw new Error(`team ${teamId} has plan ${team.plan}, which the plan catalogue lacks`);
    return { team, plan };
  }
}

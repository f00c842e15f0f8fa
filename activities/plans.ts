import { ApplicationFailure, Context } from '@temporalio/activity';
import type { PlanUpgradeInput, PlanUpgradeResult } from '../workflows/plan-change/types';
import type { ActivityDeps } from './deps';

/** Members updated at once by one plan upgrade. */
const CONCURRENCY = 8;

export function createPlanActivities(deps: ActivityDeps) {
  return {
    /**
     * Send the upgrade to every active member's running workflow (each applies it once; a retry of this activity
     * sends it again harmlessly). Heartbeats its progress, so a worker that dies mid-team is noticed within a minute.
     */
    async applyPlanUpgrade(input: PlanUpgradeInput): Promise<PlanUpgradeResult> {
      const plan = deps.plans.get(input.toPlanId);
      if (!plan) throw ApplicationFailure.nonRetryable(`plan ${input.toPlanId} is not in the catalogue`, 'UnknownPlan');
      const members = await deps.teams.listMembers(input.teamId);
      let applied = 0;
      for (let i = 0; i < members.length; i += CONCURRENCY) {
        const results = await Promise.all(
          members.slice(i, i + CONCURRENCY).map((m) =>
            deps.planChanges.applyToMember(input.teamId, m.userId, {
              changeId: input.changeId,
              fromPlanId: input.fromPlanId,
              plan,
              paygEnabled: m.paygEnabled,
            }),
          ),
        );
        applied += results.filter(Boolean).length;
        Context.current().heartbeat(i + CONCURRENCY);
      }
      return { applied };
    },
  };
}

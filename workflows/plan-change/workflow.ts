/**
 * A plan upgrade reaches every member at once (spec §16): the `applyPlanUpgrade` activity sends the `changePlan`
 * Update to each member's running workflow, retried until all have it. A workflow, so an API that stops halfway
 * leaves no member behind; each member applies a change once (it names the plan it is from).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { MemberActivities } from '../../activities';
import type { PlanUpgradeInput, PlanUpgradeResult } from './types';

const { applyPlanUpgrade } = proxyActivities<MemberActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function planChangeWorkflow(input: PlanUpgradeInput): Promise<PlanUpgradeResult> {
  return applyPlanUpgrade(input);
}

/**
 * Plan upgrades through Temporal: the API starts one `planChangeWorkflow` per change, whose activity sends each
 * member's running workflow the `changePlan` Update. A member without a running workflow is skipped: it starts on
 * the team's plan, read when it starts. No HTTP here.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { memberWorkflowId, planChangeWorkflowId } from '../../workflows/ids';
import { changePlanUpdate } from '../../workflows/member-credits/messages';
import type { ChangePlanInput } from '../../workflows/member-credits/types';
import type { PlanUpgradeInput, PlanUpgradeResult } from '../../workflows/plan-change/types';
import { planChangeWorkflow } from '../../workflows/plan-change/workflow';

export class PlanChanges {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  /** Start carrying an upgrade to the team's members; waits up to `waitMs` for all of them to have it. */
  async upgrade(input: PlanUpgradeInput, waitMs: number): Promise<PlanUpgradeResult | null> {
    const handle = await this.client.workflow.start(planChangeWorkflow, {
      workflowId: planChangeWorkflowId(input.teamId, input.changeId),
      taskQueue: this.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), waitMs)));
    try {
      return await Promise.race([handle.result(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The upgrade for one member's running period; false when none runs (or the member has just been removed). */
  async applyToMember(teamId: string, userId: string, input: ChangePlanInput): Promise<boolean> {
    try {
      await this.client.workflow.getHandle(memberWorkflowId(teamId, userId)).executeUpdate(changePlanUpdate, {
        args: [input],
      });
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      const type =
        err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure
          ? err.cause.type
          : undefined;
      if (type === 'MemberRemovedError') return false;
      throw err;
    }
  }
}

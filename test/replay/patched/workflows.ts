/**
 * The same change as ../incompatible/workflows.ts, done safely: behind `patched()`. A run that started before
 * the change replays without the new timer (no patch marker in its history); a run that starts after it records
 * the marker and gets the timer. See docs/changing-workflows.md for the patch lifecycle.
 */
import { patched, sleep } from '@temporalio/workflow';
import { memberCreditsWorkflow as current } from '../../../workflows/member-credits/workflow';
import type { MemberWorkflowInput, MemberWorkflowResult } from '../../../workflows/member-credits/types';

export async function memberCreditsWorkflow(input: MemberWorkflowInput): Promise<MemberWorkflowResult> {
  if (patched('member-reminder-timer')) void sleep('1 day');
  return current(input);
}

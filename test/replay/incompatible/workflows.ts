/**
 * A deliberately incompatible version of the member workflow, for determinism.test.ts: a new timer (say, a
 * reminder) started before anything else. A run recorded with the real code has its period timer and its first
 * ledger write where this version now asks for the reminder, so replaying that history must fail.
 * Bundled on its own; the workflow type name is the real one, so recorded histories map onto it.
 */
import { sleep } from '@temporalio/workflow';
import { memberCreditsWorkflow as current } from '../../../workflows/member-credits/workflow';
import type { MemberWorkflowInput, MemberWorkflowResult } from '../../../workflows/member-credits/types';

export async function memberCreditsWorkflow(input: MemberWorkflowInput): Promise<MemberWorkflowResult> {
  void sleep('1 day'); // new command, unguarded
  return current(input);
}

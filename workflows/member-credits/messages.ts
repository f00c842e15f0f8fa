/**
 * The member workflow's messages, imported alike by the workflow, the API's client code and the tests.
 * Wire names are short and stable: renaming one breaks running workflows.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type {
  Balance,
  ConsumeInput,
  ConsumeResult,
  MemberCreditsView,
  PurchaseInput,
  PurchaseResult,
  SetPaygInput,
} from './types';

/** Agent Mode asks before an action; the answer is the decision and the balance after it. */
export const consumeCreditsUpdate = defineUpdate<ConsumeResult, [ConsumeInput]>('consume');
/** A Billing admin turns pay-as-you-go on or off; the answer is the balance after it. */
export const setPaygUpdate = defineUpdate<Balance, [SetPaygInput]>('setPayg');
/** A Billing admin buys credits for the member's current period. */
export const purchaseCreditsUpdate = defineUpdate<PurchaseResult, [PurchaseInput]>('purchaseCredits');
/** The member leaves the team: the period closes early and the workflow ends. */
export const removeMemberUpdate = defineUpdate<Balance, []>('removeMember');
/** Live state for finance and the dashboard. */
export const creditStateQuery = defineQuery<MemberCreditsView>('creditState');

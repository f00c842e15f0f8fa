/**
 * The member workflow's messages, imported alike by the workflow, the API's client code and the tests.
 * Wire names are short and stable: renaming one breaks running workflows.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type {
  Balance,
  ChangePlanInput,
  ConsumeInput,
  ConsumeResult,
  MemberCreditsView,
  PurchaseInput,
  PurchaseResult,
  ReleaseResult,
  ReserveInput,
  ReserveResult,
  SetPaygInput,
  SettleInput,
  SettleResult,
} from './types';

/** Agent Mode asks before an action; the answer is the decision and the balance after it. */
export const consumeCreditsUpdate = defineUpdate<ConsumeResult, [ConsumeInput]>('consume');
/** A Billing admin turns pay-as-you-go on or off; the answer is the balance after it. */
export const setPaygUpdate = defineUpdate<Balance, [SetPaygInput]>('setPayg');
/** The team's plan was upgraded: this period's allowance grows, the new PAYG rate applies from now (spec §16). */
export const changePlanUpdate = defineUpdate<Balance, [ChangePlanInput]>('changePlan');
/** A Billing admin buys credits for the member's current period. */
export const purchaseCreditsUpdate = defineUpdate<PurchaseResult, [PurchaseInput]>('purchaseCredits');
/** Agent Mode sets credits aside for an action whose cost it learns after (spec §14). */
export const reserveCreditsUpdate = defineUpdate<ReserveResult, [ReserveInput]>('reserve');
/** The real cost of a reserved action: recorded as a consumption, the rest of the hold given back. */
export const settleReservationUpdate = defineUpdate<SettleResult, [SettleInput]>('settle');
/** A reservation given back unused. */
export const releaseReservationUpdate = defineUpdate<ReleaseResult, [{ reservationId: string }]>('release');
/** The member leaves the team: the period closes early and the workflow ends. */
export const removeMemberUpdate = defineUpdate<Balance, []>('removeMember');
/** Live state for finance and the dashboard. */
export const creditStateQuery = defineQuery<MemberCreditsView>('creditState');

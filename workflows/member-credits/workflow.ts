/**
 * One member, one billing period per run. The workflow is thin: it registers the messages on a
 * MemberCreditsState, drains the state's outboxes through activities, rolls the period over on the billing
 * date and continues as new (once per period, and inside a period when Temporal suggests it).
 *
 * Consumption handlers are synchronous: the agent's answer never waits for PostgreSQL. The accepted
 * consumption is durable in history the moment the Update completes; its ledger row follows in the next
 * batch (all entries that accumulated while the previous batch was being written go in one activity).
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { MemberActivities } from '../../activities';
import {
  consumeCreditsUpdate,
  creditStateQuery,
  purchaseCreditsUpdate,
  removeMemberUpdate,
  setPaygUpdate,
} from './messages';
import { MemberCreditsState } from './state';
import type { MemberWorkflowInput, MemberWorkflowResult } from './types';

/** Largest batch of ledger rows written by one activity call. */
export const LEDGER_BATCH_SIZE = 500;

const { recordLedgerEntries, postInvoiceCharges, sendMemberNotifications, deliverEmails } =
  proxyActivities<MemberActivities>({
    startToCloseTimeout: '30 seconds',
    // PostgreSQL or SMTP may be down for a while: keep retrying (the outbox stays in state meanwhile).
    retry: {
      initialInterval: '200 milliseconds',
      backoffCoefficient: 2,
      maximumInterval: '30 seconds',
      nonRetryableErrorTypes: ['InvalidActivityInput'],
    },
  });

/*
 * The ledger lane is an ordinary activity on purpose. A local activity would write inside the workflow task
 * that accepts the consumption, before that task is committed: when the task then fails (worker killed, server
 * restarted) the write stays while the decision is redone, possibly differently (the fault suite caught a
 * consumption answered "refused" with a ledger row). An activity is scheduled only by a committed task.
 */
export async function memberCreditsWorkflow(input: MemberWorkflowInput): Promise<MemberWorkflowResult> {
  const { carried, paygEnabled, ...identity } = input;
  const state = carried
    ? MemberCreditsState.fromSnapshot(carried)
    : MemberCreditsState.open(identity, Date.now(), workflowInfo().runId, paygEnabled);

  setHandler(consumeCreditsUpdate, (req) => state.consume(req, Date.now()), {
    validator: (req) => state.validateConsume(req),
  });
  setHandler(setPaygUpdate, (req) => state.setPayg(req.enabled), {
    validator: (req) => state.validateSetPayg(req?.enabled),
  });
  setHandler(purchaseCreditsUpdate, (req) => state.purchase(req, Date.now()), {
    validator: (req) => state.validatePurchase(req),
  });
  setHandler(removeMemberUpdate, () => {
    state.remove(Date.now());
    return state.balance();
  });
  setHandler(creditStateQuery, () => state.view());

  // One timer per run: the period end. (A condition with a timeout would add a timer per loop.)
  let periodEnded = false;
  void sleep(Math.max(0, state.periodEnd - Date.now())).then(() => (periodEnded = true));

  // Two independent delivery lanes: ledger rows, and invoice charges + notifications. A failing SMTP server
  // (retried for as long as it takes) never holds back the ledger, and the reverse. Each lane writes with
  // idempotency keys, so an item in flight when the run continues as new is safely written again.
  let ledgerBusy = false;
  let sideBusy = false;
  const ledgerReady = () => !ledgerBusy && state.pendingLedger.length > 0;
  const sideReady = () => !sideBusy && state.pendingDeliveries() > 0;

  for (;;) {
    await condition(
      () => ledgerReady() || sideReady() || periodEnded || state.removed || workflowInfo().continueAsNewSuggested,
    );
    if (state.removed) {
      // Validators refuse everything now, so the outboxes drain to empty.
      await condition(() => allHandlersFinished() && !ledgerBusy && !sideBusy);
      while (state.hasPendingWork()) {
        await Promise.all([writeLedgerBatch(state), deliverSideEffects(state)]);
      }
      return { reason: 'removed', closedPeriodStart: state.periodStart };
    }
    if (periodEnded) {
      // Catch up on every elapsed period (a worker that was down for months still bills each one).
      while (Date.now() >= state.periodEnd) state.rollOver(workflowInfo().runId);
    }
    if (periodEnded || workflowInfo().continueAsNewSuggested) {
      // Unwritten outbox entries travel in the snapshot and the next run writes them: their keys make that
      // safe, and waiting for a quiet moment could starve continue-as-new under steady traffic.
      await condition(allHandlersFinished);
      return continueAsNew<typeof memberCreditsWorkflow>({ ...state.identity, carried: state.snapshot() });
    }
    if (ledgerReady()) {
      ledgerBusy = true;
      void writeLedgerBatch(state).finally(() => (ledgerBusy = false));
    }
    if (sideReady()) {
      sideBusy = true;
      void deliverSideEffects(state).finally(() => (sideBusy = false));
    }
  }
}

/** One batch of ledger rows; whatever arrives meanwhile waits for the next pass. */
async function writeLedgerBatch(state: MemberCreditsState): Promise<void> {
  const ledger = state.pendingLedger.slice(0, LEDGER_BATCH_SIZE);
  if (ledger.length === 0) return;
  const { emailKeys } = await recordLedgerEntries({ entries: ledger });
  // Team PAYG-threshold emails the write queued: the side lane sends them, so SMTP never holds back the ledger.
  state.queueEmails(emailKeys);
  state.ackLedger(ledger.length);
}

/** Every pending invoice charge, notification and queued email, the activities side by side. */
async function deliverSideEffects(state: MemberCreditsState): Promise<void> {
  const charges = state.pendingCharges.slice();
  const notifications = state.pendingNotifications.slice();
  const emails = state.pendingEmails.slice();
  await Promise.all([
    charges.length > 0 && postInvoiceCharges({ charges }).then(() => state.ackCharges(charges.length)),
    notifications.length > 0 &&
      sendMemberNotifications({ notifications }).then(() => state.ackNotifications(notifications.length)),
    emails.length > 0 && deliverEmails({ keys: emails }).then(() => state.ackEmails(emails.length)),
  ]);
}

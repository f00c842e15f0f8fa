/**
 * One member, one billing period per run. The workflow is thin: it registers the messages on a
 * MemberCreditsState, drains the state's outboxes through activities, rolls the period over on the billing
 * date and continues as new (once per period, and inside a period when Temporal suggests it).
 *
 * Consumption handlers are synchronous: the decision never waits for PostgreSQL. The accepted
 * consumption is durable in history the moment the Update completes. Its `consume` ledger row is written by the
 * caller (the API) as soon as the Update answers, from the entries the answer carries, and acknowledged on the
 * caller's next Update; the workflow writes every entry not acknowledged within the backstop delay itself (same
 * key, so whoever comes second writes nothing). All other entries (grant, expiry, purchase, PAYG) the workflow
 * writes at once, whether or not the caller wrote them too, in batches: everything that accumulated while the
 * previous batch was written goes in one activity.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
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

/** Default of `MemberWorkflowInput.ledgerBackstopMs`: how long a `consume` entry waits for its write-through. */
export const LEDGER_BACKSTOP_MS = 60_000;
const MIN_LEDGER_BACKSTOP_MS = 1_000;
const MAX_LEDGER_BACKSTOP_MS = 60 * 60_000;

/** Most earlier, still unwritten non-`consume` entries handed to the caller along with a consumption's own. */
const WRITE_THROUGH_MAX_AHEAD = 16;

/** Version marker of the write-through ledger lane (histories without it replay the write-everything lane). */
export const WRITE_THROUGH_PATCH = 'ledger-write-through';

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
 * consumption answered "refused" with a ledger row). An activity is scheduled only by a committed task, and the
 * caller's write-through starts only once the Update has answered, that is once its workflow task is committed.
 */
export async function memberCreditsWorkflow(input: MemberWorkflowInput): Promise<MemberWorkflowResult> {
  const { carried, paygEnabled, ledgerBackstopMs, ...identity } = input;
  const state = carried
    ? MemberCreditsState.fromSnapshot(carried)
    : MemberCreditsState.open(identity, Date.now(), workflowInfo().runId, paygEnabled);
  const writeThrough = patched(WRITE_THROUGH_PATCH);
  const backstopMs = Math.min(
    MAX_LEDGER_BACKSTOP_MS,
    Math.max(MIN_LEDGER_BACKSTOP_MS, Math.trunc(ledgerBackstopMs ?? LEDGER_BACKSTOP_MS) || LEDGER_BACKSTOP_MS),
  );
  // Up to a quarter more, fixed per member: members whose traffic stops together do not all wake together.
  const backstopJitterMs = stableHash(workflowInfo().workflowId) % (Math.floor(backstopMs / 4) + 1);

  setHandler(
    consumeCreditsUpdate,
    (req) => {
      if (!writeThrough) return state.consume(req, Date.now());
      state.acknowledgeWrittenThrough(req.writtenThrough ?? []);
      const before = state.pendingLedger.length;
      const result = state.consume(req, Date.now());
      const created = state.pendingLedger.slice(before);
      if (created.length === 0) return result;
      // Committed rows still waiting ahead of it (a new member's grant, a purchase) go first, so the ledger keeps
      // the order in which things happened even when the caller's write beats the workflow's activity.
      const ahead = state.pendingLedger
        .slice(0, before)
        .filter((e) => e.kind !== 'consume')
        .slice(0, WRITE_THROUGH_MAX_AHEAD);
      return { ...result, writeThrough: { runId: workflowInfo().runId, entries: [...ahead, ...created] } };
    },
    { validator: (req) => state.validateConsume(req) },
  );
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
  // Write-through lane: `consume` entries wait for the caller's acknowledgement; one timer (the backstop) per
  // waiting stretch wakes the workflow when the oldest has waited `backstopMs`, and then everything pending is
  // written. Steady traffic acknowledges entries long before that, so the timer just moves on to the next oldest.
  let backstopArmed = false;
  let backstopDue = false;
  const backstopReached = () => {
    const oldest = state.oldestPendingLedgerAt();
    return oldest !== undefined && oldest + backstopMs <= Date.now();
  };
  const ledgerUrgent = () =>
    !writeThrough ||
    (backstopDue && backstopReached()) ||
    state.removed ||
    state.pendingLedger.length >= LEDGER_BATCH_SIZE ||
    state.hasUrgentLedger();
  const ledgerReady = () => !ledgerBusy && state.pendingLedger.length > 0 && ledgerUrgent();
  const backstopNeeded = () => writeThrough && !backstopArmed && !ledgerBusy && state.pendingLedger.length > 0;
  const sideReady = () => !sideBusy && state.pendingDeliveries() > 0;

  for (;;) {
    await condition(
      () =>
        ledgerReady() ||
        backstopNeeded() ||
        sideReady() ||
        periodEnded ||
        state.removed ||
        workflowInfo().continueAsNewSuggested,
    );
    if (state.removed) {
      // Validators refuse everything now, so the outboxes drain to empty.
      await condition(() => allHandlersFinished() && !ledgerBusy && !sideBusy);
      while (state.hasPendingWork()) {
        await Promise.all([writeLedgerBatch(state, writeThrough), deliverSideEffects(state)]);
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
      return continueAsNew<typeof memberCreditsWorkflow>({
        ...state.identity,
        ...(ledgerBackstopMs === undefined ? {} : { ledgerBackstopMs }),
        carried: state.snapshot(),
      });
    }
    if (ledgerReady()) {
      ledgerBusy = true;
      backstopDue = false;
      void writeLedgerBatch(state, writeThrough).finally(() => (ledgerBusy = false));
    } else if (backstopNeeded()) {
      backstopArmed = true;
      backstopDue = false;
      const oldest = state.oldestPendingLedgerAt() ?? Date.now();
      void sleep(Math.max(1, oldest + backstopMs + backstopJitterMs - Date.now())).then(() => {
        backstopArmed = false;
        // Otherwise the entry that armed the timer has been acknowledged: re-arm for the one now oldest.
        if (backstopReached()) backstopDue = true;
      });
    }
    if (sideReady()) {
      sideBusy = true;
      void deliverSideEffects(state).finally(() => (sideBusy = false));
    }
  }
}

/** One batch of ledger rows; whatever arrives meanwhile waits for the next pass. */
async function writeLedgerBatch(state: MemberCreditsState, byKey: boolean): Promise<void> {
  const ledger = state.pendingLedger.slice(0, LEDGER_BATCH_SIZE);
  if (ledger.length === 0) return;
  const { emailKeys } = await recordLedgerEntries({ entries: ledger });
  // Team PAYG-threshold emails the write queued: the side lane sends them, so SMTP never holds back the ledger.
  state.queueEmails(emailKeys);
  // By key since the write-through (acknowledgements may remove entries meanwhile); by count as before it, so that
  // runs of the earlier code replay exactly (two pending entries can share a key when a request id is reused).
  if (byKey) state.ackLedger(ledger.map((e) => e.entryKey));
  else state.ackLedgerCount(ledger.length);
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

/** A small deterministic string hash (FNV-1a, 32 bits). */
function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

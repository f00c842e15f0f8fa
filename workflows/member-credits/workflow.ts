/**
 * One member, one billing period per run. The workflow is thin: it registers the messages on a
 * MemberCreditsState, writes the state's outboxes through activities, takes leases back when they expire or when
 * a decision needs their exact spend, rolls the period over on the billing date and continues as new (once per
 * period, and inside a period when Temporal suggests it).
 *
 * The common consumption never reaches this workflow: the API spends it from a budget lease (spec §13). What does
 * reach it (PAYG, refusals, the consumption that crosses a threshold, a lease to hand out) is decided here, and
 * the Update answers once the decision's records are in PostgreSQL, so the API reads the whole answer there.
 */
import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type { MemberActivities } from '../../activities';
import {
  changePlanUpdate,
  consumeCreditsUpdate,
  creditStateQuery,
  purchaseCreditsUpdate,
  releaseReservationUpdate,
  removeMemberUpdate,
  reserveCreditsUpdate,
  setPaygUpdate,
  settleReservationUpdate,
} from './messages';
import { IdempotencyConflictError, MemberCreditsState, MemberRemovedError, ReservationNotHeldError } from './state';
import type {
  BudgetLease,
  ConsumeResult,
  MemberWorkflowInput,
  MemberWorkflowResult,
  PurchaseResult,
  ReleaseResult,
  ReserveResult,
  SettleResult,
} from './types';

/** Most record items written by one activity call. */
export const RECORDS_BATCH_SIZE = 200;

// PostgreSQL or SMTP may be down for a while: keep retrying (the outboxes stay in state meanwhile).
const retry: RetryPolicy = {
  initialInterval: '200 milliseconds',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  nonRetryableErrorTypes: ['InvalidActivityInput'],
};
const { writeMemberRecords, closeLeases, claimTeamPayg, renewMemberPeriod } = proxyActivities<MemberActivities>({
  startToCloseTimeout: '30 seconds',
  retry,
});
// The renewal runs inside the task its timer wakes, and that task continues as new: no activity task and no task
// after it. Safe as a local activity (docs/changing-workflows.md): its inputs are the committed state and what it
// reads back from PostgreSQL, so a task that fails after it wrote makes the same renewal again, with the same keys.
// A few quick tries only: a local activity that keeps failing holds its task open and adds a task to history at
// each heartbeat, so when PostgreSQL is away the renewal goes to the ordinary activity, whose retries add nothing.
const { renewMemberPeriod: renewInTask } = proxyLocalActivities<MemberActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { ...retry, maximumAttempts: 3 },
});
const { postInvoiceCharges, sendMemberNotifications, deliverEmails } = proxyActivities<MemberActivities>({
  startToCloseTimeout: '30 seconds',
  retry,
});

export async function memberCreditsWorkflow(input: MemberWorkflowInput): Promise<MemberWorkflowResult> {
  const { carried, paygEnabled, paygCapMinor, resume, ...identity } = input;
  const { runId } = workflowInfo();
  const state = carried
    ? MemberCreditsState.fromSnapshot(carried)
    : MemberCreditsState.open(identity, Date.now(), runId, { paygEnabled, paygCapMinor, resume });
  // Decisions one at a time: one that needs leases back waits for them without another deciding meanwhile.
  const decisions = new Lock();
  let leaseCount = 0;

  /** Close leases in PostgreSQL (no spend from them after this) and count what was spent from them. */
  const takeBack = async (leases: readonly BudgetLease[]) => {
    if (leases.length === 0) return;
    const closed = await closeLeases({ leases: [...leases] });
    state.settleLeases(closed, Date.now());
  };
  /** Until the records pushed so far are in PostgreSQL (the API reads the answer there). */
  let waitingForWrites = 0;
  const written = async () => {
    const seq = state.recordsPushed;
    waitingForWrites++;
    try {
      await condition(() => state.isWritten(seq));
    } finally {
      waitingForWrites--;
    }
  };
  // When the run is about to continue as new, lanes start new work only for a handler waiting on it; what is left
  // travels in the snapshot, and the run ends once nothing is in flight (no activity outlives its run).
  let ending = false;
  let lanesBusy = 0;
  const lane = async (ready: () => boolean, work: () => Promise<void>): Promise<never> => {
    for (;;) {
      await condition(() => ready() && (!ending || waitingForWrites > 0));
      lanesBusy++;
      try {
        await work();
      } finally {
        lanesBusy--;
      }
    }
  };
  /** A message at or after the period end belongs to the next period: it waits for the rollover. */
  const currentPeriod = () => condition(() => state.removed || Date.now() < state.periodEnd);
  /**
   * The team's PAYG cap is checked in PostgreSQL, across the team's members: before PAYG is spent or held here, this
   * member's claim (its PAYG charge, holds included) is raised there, or refused at the cap. Decisions are one at a
   * time, so claims go out in order.
   */
  const claimTeam = async (claim: { claimMinor: number; seq: number } | undefined): Promise<boolean> => {
    if (!claim) return true;
    const { teamId, userId } = state.identity;
    const answer = await claimTeamPayg({ teamId, userId, periodStart: state.periodStart, ...claim });
    state.queueEmails(answer.emailKeys);
    if (answer.granted) state.teamClaimed(claim);
    return answer.granted;
  };
  /** After holds were settled for less or let go, the claim comes down so other members may spend. */
  const lowerTeamClaim = () => claimTeam(state.teamClaimRelease());

  setHandler(
    consumeCreditsUpdate,
    async (req) => {
      await currentPeriod();
      const result = await decisions.run(async (): Promise<ConsumeResult> => {
        if (state.removed) throw failure(new MemberRemovedError());
        state.settleLeases(req.returnLeases ?? [], Date.now());
        if (!state.knows('consume', req.requestId) && state.needsLeasesBack(req.millicredits)) {
          await takeBack(state.leases);
        }
        const teamCapOk =
          state.knows('consume', req.requestId) || (await claimTeam(state.teamClaimFor(req.millicredits, Date.now())));
        const decided = refusing(() => state.consume(req, Date.now(), { teamCapReached: !teamCapOk }));
        const lease =
          req.wantLease && decided.decision !== 'refused'
            ? state.grantLease(req.holder, Date.now(), runId, `${runId}:${++leaseCount}`)
            : undefined;
        return { ...decided, ...(lease ? { lease } : {}) };
      });
      await written();
      return result;
    },
    { validator: (req) => state.validateConsume(req) },
  );
  setHandler(
    purchaseCreditsUpdate,
    async (req) => {
      await currentPeriod();
      const result = await decisions.run(async (): Promise<PurchaseResult> => {
        if (state.removed) throw failure(new MemberRemovedError());
        return refusing(() => state.purchase(req, Date.now()));
      });
      await written();
      return result;
    },
    { validator: (req) => state.validatePurchase(req) },
  );
  setHandler(
    reserveCreditsUpdate,
    async (req) => {
      await currentPeriod();
      const result = await decisions.run(async (): Promise<ReserveResult> => {
        if (state.removed) throw failure(new MemberRemovedError());
        const known = state.knows('reserve', req.reservationId);
        if (!known && state.needsLeasesBack(req.millicredits)) await takeBack(state.leases);
        const teamCapOk = known || (await claimTeam(state.teamClaimFor(req.millicredits, Date.now())));
        return refusing(() => state.reserve(req, Date.now(), { teamCapReached: !teamCapOk }));
      });
      await written();
      return result;
    },
    { validator: (req) => state.validateReserve(req) },
  );
  setHandler(
    settleReservationUpdate,
    async (req) => {
      await currentPeriod();
      const result = await decisions.run(async (): Promise<SettleResult> => {
        if (state.removed) throw failure(new MemberRemovedError());
        const settled = refusing(() => state.settle(req, Date.now()));
        await lowerTeamClaim();
        return settled;
      });
      await written();
      return result;
    },
    { validator: (req) => state.validateSettle(req) },
  );
  setHandler(
    releaseReservationUpdate,
    async (req) => {
      await currentPeriod();
      const result = await decisions.run(async (): Promise<ReleaseResult> => {
        if (state.removed) throw failure(new MemberRemovedError());
        const released = refusing(() => state.release(req.reservationId, Date.now()));
        await lowerTeamClaim();
        return released;
      });
      await written();
      return result;
    },
    { validator: (req) => state.validateRelease(req?.reservationId) },
  );
  setHandler(
    setPaygUpdate,
    async (req) => {
      await currentPeriod();
      await decisions.run(async () => state.setPayg(req, Date.now()));
      await written();
      return state.balance();
    },
    { validator: (req) => state.validateSetPayg(req) },
  );
  setHandler(
    changePlanUpdate,
    async (req) => {
      await currentPeriod();
      await decisions.run(async () => {
        if (state.removed) throw failure(new MemberRemovedError());
        state.changePlan(req, Date.now());
      });
      await written();
      return state.balance();
    },
    { validator: (req) => state.validateChangePlan(req) },
  );
  setHandler(removeMemberUpdate, async () => {
    await decisions.run(async () => {
      if (state.removed) return;
      await takeBack(state.leases);
      state.remove(Date.now());
    });
    return state.balance();
  });
  setHandler(creditStateQuery, () => state.view());

  // Three independent delivery lanes, so a mail server that is down never holds back the ledger or an invoice
  // charge. Each writes with idempotency keys: an item in flight when the run continues as new is written again
  // by the next run, harmlessly.
  void lane(
    () => state.hasPendingRecords(),
    async () => {
      const next = state.nextRecords(RECORDS_BATCH_SIZE);
      if (!next) return;
      const { emailKeys } = await writeMemberRecords(next.batch);
      state.recordsStored(next.throughSeq);
      // Team PAYG-threshold emails the write queued go out on the notification lane.
      state.queueEmails(emailKeys);
      state.forgetWritten(Date.now());
    },
  );
  void lane(
    () => state.pendingCharges.length > 0,
    async () => {
      const charges = state.pendingCharges.slice();
      await postInvoiceCharges({ charges });
      state.ackCharges(charges.length);
    },
  );
  void lane(
    () => state.pendingNotifications.length + state.pendingEmails.length > 0,
    async () => {
      const notifications = state.pendingNotifications.slice();
      const emails = state.pendingEmails.slice();
      await Promise.all([
        notifications.length > 0 &&
          sendMemberNotifications({ notifications }).then(() => state.ackNotifications(notifications.length)),
        emails.length > 0 && deliverEmails({ keys: emails }).then(() => state.ackEmails(emails.length)),
      ]);
    },
  );

  // One timer for the period end, and at most one for the next lease or hold to expire (a lease holder that died or
  // went quiet; a reservation nobody settled).
  let periodEnded = false;
  void sleep(Math.max(0, state.periodEnd - Date.now())).then(() => (periodEnded = true));
  // The lease timer is cancelled once no lease is out (all came back early): a timer firing for nothing costs a
  // workflow task.
  let leaseTimer: CancellationScope | undefined;
  let leaseTimerFired = false;
  const leaseTimerNeeded = () => leaseTimer === undefined && state.nextExpiry() !== undefined;
  const leaseTimerIdle = () => leaseTimer !== undefined && state.nextExpiry() === undefined;

  for (;;) {
    await condition(
      () =>
        periodEnded ||
        Date.now() >= state.periodEnd ||
        state.removed ||
        leaseTimerFired ||
        leaseTimerNeeded() ||
        leaseTimerIdle() ||
        workflowInfo().continueAsNewSuggested,
    );
    if (state.removed) {
      // Validators refuse everything now, so the outboxes drain to empty.
      await condition(() => allHandlersFinished() && !state.hasPendingWork());
      return { reason: 'removed', closedPeriodStart: state.periodStart };
    }
    if (periodEnded || Date.now() >= state.periodEnd) {
      // One renewal, in this task (a local activity; the ordinary one if that keeps failing): every lease back (no credit of the closing period spent after it closed), the plan in
      // force at the period end read, every elapsed period closed and the next opened (a worker that was down for
      // months still bills each one), all their records written in one transaction, the PAYG charges posted. It
      // makes the renewal from this state; the state makes the same one here with the plan and leases it returns,
      // so the records are known written and the next run starts with nothing to write.
      await decisions.run(async () => {
        const now = Date.now();
        const renewal = { snapshot: state.renewalSnapshot(), now };
        const renewed = await renewInTask(renewal).catch(() => renewMemberPeriod(renewal));
        state.renew(runId, renewed.plan, now, renewed.closed);
        state.recordsStored(renewed.writtenThroughSeq);
        state.renewalChargesPosted(renewed.chargesPosted);
        state.queueEmails(renewed.emailKeys);
      });
      periodEnded = true;
    }
    if (periodEnded || workflowInfo().continueAsNewSuggested) {
      // Unwritten outbox items travel in the snapshot and the next run writes them: their keys make that safe.
      ending = true;
      await condition(() => allHandlersFinished() && lanesBusy === 0);
      return continueAsNew<typeof memberCreditsWorkflow>({ ...state.identity, carried: state.snapshot() });
    }
    if (leaseTimerFired) {
      leaseTimerFired = false;
      await decisions.run(async () => {
        await takeBack(state.expiredLeases(Date.now()));
        if (state.expireHolds(Date.now()) > 0) await lowerTeamClaim();
      });
    }
    if (leaseTimerIdle()) {
      leaseTimer?.cancel();
      leaseTimer = undefined;
    }
    if (leaseTimerNeeded()) {
      const at = state.nextExpiry() as number;
      const scope = new CancellationScope();
      leaseTimer = scope;
      scope
        .run(() => sleep(Math.max(1, at - Date.now())))
        .then(
          () => {
            leaseTimer = undefined;
            leaseTimerFired = true;
          },
          (err: unknown) => {
            if (!isCancellation(err)) throw err;
          },
        );
    }
  }
}

/** A first-come, first-served lock: deterministic, as workflow code must be. */
class Lock {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** Domain refusals leave an Update handler as ApplicationFailures (a plain Error would fail the workflow task). */
function failure(err: Error): ApplicationFailure {
  return ApplicationFailure.create({ message: err.message, type: err.name, nonRetryable: true });
}

/** A repeat with a different body is refused to the caller, not a failed workflow task. */
function refusing<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof IdempotencyConflictError || err instanceof ReservationNotHeldError) throw failure(err);
    throw err;
  }
}

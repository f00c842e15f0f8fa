/**
 * The API's door to the member and team workflows: one Update on the running workflow, update-with-start when
 * none runs, bounded waits, retries of what is safe to retry (every message is idempotent), and the workflows'
 * refusals turned into `CreditsError`s. No HTTP here.
 */
import {
  WithStartWorkflowOperation,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  isGrpcServiceError,
  ServiceError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError, type UpdateDefinition } from '@temporalio/common';
import { status as grpcStatus } from '@grpc/grpc-js';
import { memberWorkflowId, teamWorkflowId } from '../../workflows/ids';
import {
  consumeCreditsUpdate,
  creditStateQuery,
  purchaseCreditsUpdate,
  releaseReservationUpdate,
  removeMemberUpdate,
  reserveCreditsUpdate,
  setPaygUpdate,
  settleReservationUpdate,
} from '../../workflows/member-credits/messages';
import type {
  Balance,
  ConsumeInput,
  ConsumeResult,
  MemberCreditsView,
  MemberWorkflowInput,
  PurchaseInput,
  PurchaseResult,
  ReleaseResult,
  ReserveInput,
  ReserveResult,
  SetPaygInput,
  SettleInput,
  SettleResult,
} from '../../workflows/member-credits/types';
import { memberCreditsWorkflow } from '../../workflows/member-credits/workflow';
import { teamBillingQuery } from '../../workflows/team-billing/messages';
import type { TeamBillingInput, TeamBillingView } from '../../workflows/team-billing/types';
import { teamBillingWorkflow } from '../../workflows/team-billing/workflow';
import { CreditsError } from '../errors';

/** Attempts for an Update that raced a continue-as-new, a closing run or a server blip. */
const MAX_ATTEMPTS = 5;
/**
 * Updates this process keeps in flight per member workflow; more wait here, in arrival order. The server admits
 * at most 10 in-flight Updates per workflow (`history.maxInFlightUpdates`) and refuses the rest; 8 leaves room for
 * a second API instance's or an admin's message.
 */
export const MAX_UPDATES_IN_FLIGHT_PER_MEMBER = 8;
/** How long an Update may take before the caller is told to retry (the decision, if made, is remembered). */
export const UPDATE_TIMEOUT_MS = 30_000;

/**
 * The request went to a run that was closing a removed member, who has been added again: an answer may have been
 * written since the caller looked in PostgreSQL, so it looks again before asking the new run.
 */
export class LookAgain extends Error {}

export interface MemberStarts {
  /** What a member's workflow starts with (identity, plan, PAYG setting, a period to resume); not found: throw. */
  memberInput(teamId: string, userId: string): Promise<MemberWorkflowInput>;
  teamInput(teamId: string): Promise<TeamBillingInput>;
}

export class MemberClient {
  private readonly inFlight = new KeyedConcurrencyLimiter(MAX_UPDATES_IN_FLIGHT_PER_MEMBER);

  constructor(
    private readonly client: Client,
    private readonly starts: MemberStarts,
    private readonly taskQueue: string,
  ) {}

  consume(teamId: string, userId: string, input: ConsumeInput): Promise<ConsumeResult> {
    return this.update(teamId, userId, consumeCreditsUpdate, [input]);
  }

  purchase(teamId: string, userId: string, input: PurchaseInput): Promise<PurchaseResult> {
    return this.update(teamId, userId, purchaseCreditsUpdate, [input]);
  }

  setPayg(teamId: string, userId: string, setting: SetPaygInput): Promise<Balance> {
    return this.update(teamId, userId, setPaygUpdate, [setting]);
  }

  reserve(teamId: string, userId: string, input: ReserveInput): Promise<ReserveResult> {
    return this.update(teamId, userId, reserveCreditsUpdate, [input]);
  }

  settle(teamId: string, userId: string, input: SettleInput): Promise<SettleResult> {
    return this.update(teamId, userId, settleReservationUpdate, [input]);
  }

  release(teamId: string, userId: string, reservationId: string): Promise<ReleaseResult> {
    return this.update(teamId, userId, releaseReservationUpdate, [{ reservationId }]);
  }

  /** Close the member's period early and end their workflow (no-op when none runs). */
  async remove(teamId: string, userId: string): Promise<void> {
    try {
      await this.inFlight.run(memberWorkflowId(teamId, userId), () =>
        this.handle(teamId, userId).executeUpdate(removeMemberUpdate, { args: [] }),
      );
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || failureType(err) === 'MemberRemovedError') return;
      throw err;
    }
  }

  /** Until a removed member's run has finished closing (a re-added member then starts afresh). */
  async closed(teamId: string, userId: string, timeoutMs = UPDATE_TIMEOUT_MS): Promise<void> {
    try {
      await this.client.withDeadline(Date.now() + timeoutMs, () => this.handle(teamId, userId).result());
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return;
      if (isGrpcServiceError(err) || err instanceof ServiceError) {
        throw new CreditsError('unavailable', 'the member is still being removed; retry shortly');
      }
    }
  }

  /** True while the member's workflow runs and has not been removed (a removal still to finish). */
  async isOpen(teamId: string, userId: string): Promise<boolean> {
    try {
      return !(await this.handle(teamId, userId).query(creditStateQuery)).removed;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  /** The workflow's authoritative state (finance), starting the workflow when the member has none yet. */
  async state(teamId: string, userId: string): Promise<MemberCreditsView> {
    try {
      return await this.handle(teamId, userId).query(creditStateQuery);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    await this.ensureStarted(teamId, userId);
    return this.handle(teamId, userId).query(creditStateQuery);
  }

  /** Start the member's workflow when it is not running (a new member gets this period's grant at once). */
  async ensureStarted(teamId: string, userId: string): Promise<void> {
    await this.startOnce(memberCreditsWorkflow, memberWorkflowId(teamId, userId), [
      await this.starts.memberInput(teamId, userId),
    ]);
  }

  /** Start the team's billing-cycle workflow (invoice finalization at each billing date) when not running. */
  async ensureTeamBilling(teamId: string): Promise<void> {
    await this.startOnce(teamBillingWorkflow, teamWorkflowId(teamId), [await this.starts.teamInput(teamId)]);
  }

  async teamBilling(teamId: string): Promise<TeamBillingView> {
    try {
      return await this.client.workflow.getHandle(teamWorkflowId(teamId)).query(teamBillingQuery);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    await this.ensureTeamBilling(teamId);
    return this.client.workflow.getHandle(teamWorkflowId(teamId)).query(teamBillingQuery);
  }

  private async startOnce<A extends unknown[]>(
    workflow: (...args: A) => Promise<unknown>,
    workflowId: string,
    args: A,
  ): Promise<void> {
    try {
      await this.client.workflow.start(workflow, {
        workflowId,
        taskQueue: this.taskQueue,
        args,
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
    } catch (err) {
      if (!(err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError')) throw err;
    }
  }

  private handle(teamId: string, userId: string): WorkflowHandle<typeof memberCreditsWorkflow> {
    return this.client.workflow.getHandle(memberWorkflowId(teamId, userId));
  }

  private async update<Ret, Args extends [unknown]>(
    teamId: string,
    userId: string,
    def: UpdateDefinition<Ret, Args>,
    args: Args,
  ): Promise<Ret> {
    const workflowId = memberWorkflowId(teamId, userId);
    // One deadline for every attempt: a caller's look-up in PostgreSQL stays far younger than what the workflow
    // remembers (`REMEMBER_AFTER_WRITE_MS`), however long the queue here or the retries take.
    const deadline = Date.now() + UPDATE_TIMEOUT_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.inFlight.run(workflowId, () =>
          this.client.withDeadline(deadline, () => this.send(teamId, userId, def, args)),
        );
      } catch (err) {
        const refusal = toCreditsError(err);
        if (refusal) throw refusal;
        const type = failureType(err);
        if (type === 'MemberRemovedError') {
          // A run still closing a removed member. Not active in PostgreSQL: not found. Added again: the old run
          // finishes closing, then the member starts afresh (resuming the period from PostgreSQL).
          await this.starts.memberInput(teamId, userId);
          await this.closed(teamId, userId);
          throw new LookAgain('the member was added again');
        }
        if (!isTransient(err)) throw err;
        if (attempt >= MAX_ATTEMPTS || Date.now() >= deadline) {
          throw new CreditsError('unavailable', 'the member workflow did not answer in time; retry');
        }
        await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
      }
    }
  }

  /** One Update on the running workflow, or update-with-start when none runs (a member's first message). */
  private async send<Ret, Args extends [unknown]>(
    teamId: string,
    userId: string,
    def: UpdateDefinition<Ret, Args>,
    args: Args,
  ): Promise<Ret> {
    try {
      return await this.handle(teamId, userId).executeUpdate(def as UpdateDefinition<Ret, [unknown]>, {
        args: args as unknown as [unknown],
      });
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    const startWorkflowOperation = new WithStartWorkflowOperation(memberCreditsWorkflow, {
      workflowId: memberWorkflowId(teamId, userId),
      taskQueue: this.taskQueue,
      args: [await this.starts.memberInput(teamId, userId)],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    return this.client.workflow.executeUpdateWithStart(def, { args, startWorkflowOperation });
  }
}

/** At most `limit` calls in flight per key; the others wait, first come first served. */
export class KeyedConcurrencyLimiter {
  private readonly keys = new Map<string, { running: number; waiting: (() => void)[] }>();

  constructor(readonly limit: number) {}

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let slot = this.keys.get(key);
    if (!slot) this.keys.set(key, (slot = { running: 0, waiting: [] }));
    if (slot.running < this.limit) slot.running++;
    else await new Promise<void>((resolve) => slot.waiting.push(resolve)); // the finishing call hands its place over
    try {
      return await fn();
    } finally {
      const next = slot.waiting.shift();
      if (next) next();
      else if (--slot.running === 0) this.keys.delete(key);
    }
  }
}

function failureType(err: unknown): string | undefined {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    return err.cause.type ?? undefined;
  }
  return undefined;
}

function toCreditsError(err: unknown): CreditsError | undefined {
  if (err instanceof CreditsError) return err;
  const message = (err as WorkflowUpdateFailedError).cause?.message ?? 'rejected';
  switch (failureType(err)) {
    case 'InvalidMessageError':
      return new CreditsError('invalid_request', message);
    case 'NotAllowedError':
      return new CreditsError('not_allowed', message);
    case 'IdempotencyConflictError':
      return new CreditsError('idempotency_key_reused', message);
    case 'BackpressureError':
      return new CreditsError('unavailable', message);
    case 'ReservationNotHeldError':
      return new CreditsError('reservation_not_held', message);
    default:
      return undefined;
  }
}

/** The gRPC status behind a client error (a ServiceError keeps it in its cause). */
export function grpcCode(err: unknown): number | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (isGrpcServiceError(e)) return e.code;
  }
  return undefined;
}

/**
 * Worth another attempt: the run completed under the Update (continue-as-new, or an update failed by the
 * workflow task that carried it), the server was briefly unavailable, or the Update outlived its wait.
 */
function isTransient(err: unknown): boolean {
  if (err instanceof WorkflowUpdateFailedError) return failureType(err) === undefined;
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  const code = grpcCode(err);
  if (code === undefined) return err instanceof ServiceError;
  return ![
    grpcStatus.INVALID_ARGUMENT,
    grpcStatus.PERMISSION_DENIED,
    grpcStatus.UNAUTHENTICATED,
    grpcStatus.UNIMPLEMENTED,
  ].includes(code);
}

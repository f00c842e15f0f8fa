import {
  WithStartWorkflowOperation,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import type { UpdateDefinition } from '@temporalio/common';
import { memberWorkflowId, teamWorkflowId } from '../../workflows/ids';
import { teamBillingWorkflow } from '../../workflows/team-billing/workflow';
import { teamBillingQuery } from '../../workflows/team-billing/messages';
import type { TeamBillingView } from '../../workflows/team-billing/types';
import {
  consumeCreditsUpdate,
  creditStateQuery,
  purchaseCreditsUpdate,
  removeMemberUpdate,
  setPaygUpdate,
} from '../../workflows/member-credits/messages';
import type {
  Balance,
  ConsumeInput,
  ConsumeResult,
  MemberCreditsView,
  MemberWorkflowInput,
  PurchaseInput,
  PurchaseResult,
} from '../../workflows/member-credits/types';
import { MAX_WRITTEN_THROUGH_ACKS } from '../../workflows/member-credits/state';
import { memberCreditsWorkflow } from '../../workflows/member-credits/workflow';
import { ApiError, notFound } from '../errors';
import type { LedgerStore } from '../db/ledger-store';
import type { TeamStore } from '../db/team-store';
import type { PlanCatalogue } from '../plans';

/** Attempts for an Update that raced a continue-as-new or a closing run (safe: every message is idempotent). */
const MAX_ATTEMPTS = 5;

/**
 * Updates this process keeps in flight per member workflow; more wait here, in arrival order. The server admits
 * at most 10 in-flight Updates per workflow (`history.maxInFlightUpdates`); beyond that it refuses them and, as
 * measured by `npm run bench` (50 concurrent callers on one workflow), Updates start being aborted and throughput
 * collapses. 8 leaves room for a second API replica's or an admin's message.
 */
export const MAX_UPDATES_IN_FLIGHT_PER_MEMBER = 8;

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

export const DEFAULT_INVOICE_GRACE_MS = 60 * 60 * 1000;

/** How long an answer waits for its ledger write-through; past that it goes out and the write finishes behind. */
export const WRITE_THROUGH_WAIT_MS = 1_000;
/** After a failed or slow write-through, no write-through for this long (the workflows write those rows). */
const WRITE_THROUGH_PAUSE_MS = 5_000;
/** Most write-throughs in flight per process: beyond it an answer skips its write (the workflow writes it). */
export const MAX_WRITE_THROUGHS_IN_FLIGHT = 32;

/**
 * Entry keys this process has written through, per member workflow, until the member's next consumption carries
 * them to the workflow. Bounded: a dropped acknowledgement only means the workflow writes that row once more
 * (and PostgreSQL skips it by its key).
 */
export class WrittenThroughAcks {
  private readonly byWorkflow = new Map<string, string[]>();

  constructor(
    readonly maxPerWorkflow = MAX_WRITTEN_THROUGH_ACKS,
    readonly maxWorkflows = 10_000,
  ) {}

  add(workflowId: string, keys: readonly string[]): void {
    if (keys.length === 0) return;
    const list = this.byWorkflow.get(workflowId) ?? [];
    this.byWorkflow.delete(workflowId); // re-insert: the map's order is least recently written first
    list.push(...keys);
    if (list.length > this.maxPerWorkflow) list.splice(0, list.length - this.maxPerWorkflow);
    this.byWorkflow.set(workflowId, list);
    while (this.byWorkflow.size > this.maxWorkflows) {
      const oldest = this.byWorkflow.keys().next().value;
      if (oldest === undefined) break;
      this.byWorkflow.delete(oldest);
    }
  }

  take(workflowId: string): string[] {
    const list = this.byWorkflow.get(workflowId) ?? [];
    this.byWorkflow.delete(workflowId);
    return list;
  }

  get size(): number {
    return this.byWorkflow.size;
  }
}

export interface CreditsServiceOptions {
  /** Grace window after each billing date before the team's invoice is finalized. */
  invoiceGraceMs?: number;
  /**
   * Write the ledger rows of an allowed consumption as soon as its Update answers (write-through), and tell the
   * workflow on the member's next consumption. Without it the workflow writes them after its backstop delay.
   */
  ledger?: LedgerStore;
  /** `MemberWorkflowInput.ledgerBackstopMs` for the workflows this service starts (workflow default if unset). */
  ledgerBackstopMs?: number;
  /** Told when a write-through fails (the rows are then written by the workflow). */
  onWriteThroughError?: (err: unknown) => void;
}

/**
 * The API's door to the member workflows. The hot path is one Update on the running workflow; only when no
 * run exists does it read PostgreSQL (is this an active member? which plan?) and update-with-start.
 */
export class CreditsService {
  private readonly inFlight = new KeyedConcurrencyLimiter(MAX_UPDATES_IN_FLIGHT_PER_MEMBER);
  readonly acks = new WrittenThroughAcks();
  private writeThroughPausedUntil = 0;
  private writeThroughsInFlight = 0;
  private readonly invoiceGraceMs: number;

  constructor(
    private readonly client: Client,
    private readonly teams: TeamStore,
    private readonly plans: PlanCatalogue,
    private readonly taskQueue: string,
    private readonly options: CreditsServiceOptions = {},
  ) {
    this.invoiceGraceMs = options.invoiceGraceMs ?? DEFAULT_INVOICE_GRACE_MS;
  }

  /**
   * Ask the member's workflow; an allowed consumption's ledger rows are then written at once (write-through). The
   * answer waits at most `WRITE_THROUGH_WAIT_MS` for that write: the decision is already durable in the workflow,
   * which writes any row it is not told about.
   */
  async consume(teamId: string, userId: string, input: ConsumeInput): Promise<ConsumeResult> {
    const ledger = this.options.ledger;
    const workflowId = memberWorkflowId(teamId, userId);
    const acks = ledger ? this.acks.take(workflowId) : [];
    let answer: ConsumeResult;
    try {
      answer = await this.update(teamId, userId, consumeCreditsUpdate, [
        acks.length > 0 ? { ...input, writtenThrough: acks } : input,
      ]);
    } catch (err) {
      // For the next consumption (acknowledging twice is harmless), unless the message itself was refused.
      if (!(err instanceof ApiError && err.status === 400)) this.acks.add(workflowId, acks);
      throw err;
    }
    const { writeThrough, ...result } = answer;
    if (ledger && writeThrough) await this.writeThrough(ledger, workflowId, writeThrough);
    return result;
  }

  /**
   * Write a consumption's ledger entries, and remember the `consume` keys PostgreSQL confirmed for the member's next
   * consumption to acknowledge. Waits at most `WRITE_THROUGH_WAIT_MS`; skipped (the workflow writes the rows) while
   * paused after a failed or slow write, or when `MAX_WRITE_THROUGHS_IN_FLIGHT` writes are under way.
   */
  private async writeThrough(
    ledger: LedgerStore,
    workflowId: string,
    { runId, entries }: NonNullable<ConsumeResult['writeThrough']>,
  ): Promise<void> {
    if (Date.now() < this.writeThroughPausedUntil || this.writeThroughsInFlight >= MAX_WRITE_THROUGHS_IN_FLIGHT) return;
    this.writeThroughsInFlight++;
    const write = ledger
      .append(entries, { workflowId, runId, writtenBy: 'api' })
      .then(
        () =>
          this.acks.add(
            workflowId,
            entries.filter((e) => e.kind === 'consume').map((e) => e.entryKey),
          ),
        (err: unknown) => {
          this.writeThroughPausedUntil = Date.now() + WRITE_THROUGH_PAUSE_MS;
          this.options.onWriteThroughError?.(err);
        },
      )
      .finally(() => this.writeThroughsInFlight--);
    let timer: NodeJS.Timeout | undefined;
    const slow = await Promise.race([
      write.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), WRITE_THROUGH_WAIT_MS))),
    ]);
    clearTimeout(timer);
    // PostgreSQL slow or unreachable: later answers skip the write-through for a while instead of each waiting.
    if (slow) this.writeThroughPausedUntil = Date.now() + WRITE_THROUGH_PAUSE_MS;
  }

  setPayg(teamId: string, userId: string, enabled: boolean): Promise<Balance> {
    return this.update(teamId, userId, setPaygUpdate, [{ enabled }]);
  }

  purchase(teamId: string, userId: string, input: PurchaseInput): Promise<PurchaseResult> {
    return this.update(teamId, userId, purchaseCreditsUpdate, [input]);
  }

  /** Close the member's period early and end their workflow (no-op when none runs). */
  async remove(teamId: string, userId: string): Promise<void> {
    try {
      await this.inFlight.run(memberWorkflowId(teamId, userId), () =>
        this.handle(teamId, userId).executeUpdate(removeMemberUpdate, { args: [] }),
      );
    } catch (err) {
      if (isNotRunning(err) || failureType(err) === 'MemberRemovedError') return;
      throw err;
    }
  }

  /** True while the member's workflow runs and has not been removed (a removal still to finish). */
  async isOpen(teamId: string, userId: string): Promise<boolean> {
    try {
      return !(await this.handle(teamId, userId).query(creditStateQuery)).removed;
    } catch (err) {
      if (isNotRunning(err)) return false;
      throw err;
    }
  }

  async state(teamId: string, userId: string): Promise<MemberCreditsView> {
    try {
      return await this.handle(teamId, userId).query(creditStateQuery);
    } catch (err) {
      if (!isNotRunning(err)) throw err;
    }
    await this.ensureStarted(teamId, userId);
    return this.handle(teamId, userId).query(creditStateQuery);
  }

  /** Start the member's workflow when it is not running (a new member gets this period's grant at once). */
  async ensureStarted(teamId: string, userId: string): Promise<void> {
    const input = await this.startInput(teamId, userId);
    try {
      await this.client.workflow.start(memberCreditsWorkflow, {
        workflowId: memberWorkflowId(teamId, userId),
        taskQueue: this.taskQueue,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
    } catch (err) {
      if (!(err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError')) throw err;
    }
  }

  /** Start the team's billing-cycle workflow (invoice finalization at each billing date) when not running. */
  async ensureTeamBilling(teamId: string): Promise<void> {
    const team = await this.teams.getTeam(teamId);
    if (!team) throw notFound(`team ${teamId} not found`);
    try {
      await this.client.workflow.start(teamBillingWorkflow, {
        workflowId: teamWorkflowId(teamId),
        taskQueue: this.taskQueue,
        args: [
          {
            teamId,
            billingAnchorDay: team.billingAnchorDay,
            currency: team.currency,
            invoiceGraceMs: this.invoiceGraceMs,
          },
        ],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
    } catch (err) {
      if (!(err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError')) throw err;
    }
  }

  async teamBilling(teamId: string): Promise<TeamBillingView> {
    try {
      return await this.client.workflow.getHandle(teamWorkflowId(teamId)).query(teamBillingQuery);
    } catch (err) {
      if (!isNotRunning(err)) throw err;
    }
    await this.ensureTeamBilling(teamId);
    return this.client.workflow.getHandle(teamWorkflowId(teamId)).query(teamBillingQuery);
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
    for (let attempt = 1; ; attempt++) {
      try {
        const sent = await this.inFlight.run(workflowId, async () => {
          try {
            return {
              result: await this.handle(teamId, userId).executeUpdate(def as UpdateDefinition<Ret, [unknown]>, {
                args: args as unknown as [unknown],
              }),
            };
          } catch (err) {
            if (!isNotRunning(err)) throw err;
            return undefined;
          }
        });
        if (sent) return sent.result;
        // No running workflow: an active member whose workflow has not started yet (or is between runs).
        const startWorkflowOperation = new WithStartWorkflowOperation(memberCreditsWorkflow, {
          workflowId,
          taskQueue: this.taskQueue,
          args: [await this.startInput(teamId, userId)],
          workflowIdConflictPolicy: 'USE_EXISTING',
        });
        return await this.inFlight.run(workflowId, () =>
          this.client.workflow.executeUpdateWithStart(def, { args, startWorkflowOperation }),
        );
      } catch (err) {
        const mapped = toApiError(err);
        if (mapped) throw mapped;
        if (attempt >= MAX_ATTEMPTS || !isTransient(err)) throw err;
        await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
      }
    }
  }

  private async startInput(teamId: string, userId: string): Promise<MemberWorkflowInput> {
    const [team, member] = await Promise.all([this.teams.getTeam(teamId), this.teams.getMember(teamId, userId)]);
    if (!team) throw notFound(`team ${teamId} not found`);
    if (!member || member.status !== 'active') throw notFound(`member ${userId} not found in team ${teamId}`);
    const plan = this.plans.get(team.plan);
    if (!plan) throw new Error(`team ${teamId} has plan ${team.plan}, which the plan catalogue lacks`);
    const backstop = this.options.ledgerBackstopMs;
    return {
      teamId,
      userId,
      billingAnchorDay: team.billingAnchorDay,
      plan,
      ...(backstop === undefined ? {} : { ledgerBackstopMs: backstop }),
    };
  }
}

function isNotRunning(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError;
}

function failureType(err: unknown): string | undefined {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure)
    return err.cause.type ?? undefined;
  return undefined;
}

function toApiError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  const type = failureType(err);
  const message = (err as WorkflowUpdateFailedError).cause?.message ?? 'rejected';
  switch (type) {
    case 'InvalidMessageError':
      return new ApiError(400, 'invalid_request', message);
    case 'NotAllowedError':
      return new ApiError(422, 'not_allowed', message);
    case 'MemberRemovedError':
      return new ApiError(404, 'not_found', message);
    default:
      return undefined;
  }
}

/** Names and messages of an error and its causes (a ServiceError keeps the gRPC status in its cause). */
function errorChainText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    parts.push(`${e.name} ${e.message}`);
  }
  return parts.join(' | ');
}

/** A run that completed (continue-as-new) under the Update, or a momentary service error. */
function isTransient(err: unknown): boolean {
  if (err instanceof WorkflowUpdateFailedError) return failureType(err) === undefined;
  const text = errorChainText(err);
  // "workflow task failure": the task carrying the Update failed (its worker died or lost the server, or at
  // continue-as-new an event arrived meanwhile: UnhandledCommand); retry. The client reports it as a ServiceError
  // ("Workflow Update failed") whose cause carries the reason, hence the whole chain is read.
  return /completed|continued|UNAVAILABLE|DEADLINE|ResourceExhausted|unavailable|workflow task failure/i.test(text);
}

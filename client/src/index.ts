/**
 * A typed client of the AI credits API for TypeScript (Agent Mode, admin scripts). `api` is the whole API, typed from
 * the served `/openapi.json` (openapi-fetch over the generated `schema.d.ts`); the methods below are the calls agents
 * and billing scripts make, with their idempotency ids filled in and their errors thrown as `CreditsApiError`.
 * Every request goes through `retryingFetch`: see retry.ts for what is sent again and why that is safe.
 */
import createClient, { type Client } from 'openapi-fetch';
import { CreditsApiError } from './errors';
import { retryingFetch, type Fetch, type RetryOptions } from './retry';
import type {
  ActionName,
  ConsumeAnswer,
  CreditAmount,
  MemberCreditsView,
  PaygAnswer,
  Paths,
  PurchaseAnswer,
  Refusal,
  Release,
  Reservation,
  Settlement,
  TeamUsagePage,
} from './types';

export { CreditsApiError } from './errors';
export { isIdempotent, retryingFetch, type Fetch, type RetryOptions } from './retry';
export type * from './types';

export interface CreditsClientOptions {
  /** Where the API answers, e.g. `http://localhost:3000`. */
  baseUrl: string;
  /** A bearer token: a member's, a service's (`agent`, `finance`) or provisioning. */
  token: string;
  retry?: RetryOptions;
  /** Defaults to the global fetch. */
  fetch?: Fetch;
  /** Makes the ids the caller does not give (default `crypto.randomUUID`). */
  newId?: () => string;
}

export interface MemberRef {
  teamId: string;
  userId: string;
}

/** Per call: a deadline or cancellation for all its attempts. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** Refused consumptions and reservations are answers, not errors: the agent pauses rather than fails. */
export function isRefused<T extends object>(answer: T | Refusal): answer is Refusal {
  return (answer as Refusal).decision === 'refused';
}

export class CreditsClient {
  /** The whole API, typed from its document. Answers come back as openapi-fetch's `{ data, error, response }`. */
  readonly api: Client<Paths>;
  private readonly newId: () => string;

  constructor(options: CreditsClientOptions) {
    this.newId = options.newId ?? (() => globalThis.crypto.randomUUID());
    this.api = createClient<Paths>({
      baseUrl: options.baseUrl,
      headers: { authorization: `Bearer ${options.token}` },
      fetch: retryingFetch(options.fetch ?? ((request) => globalThis.fetch(request)), options.retry),
    });
  }

  /**
   * Agent Mode's credit check: records one action, or refuses it (402: nothing recorded). `requestId` (a new UUID
   * unless given) is sent unchanged on every attempt, so a retried call counts once; it is in the answer.
   */
  async consume(
    input: MemberRef & { action: ActionName; credits: CreditAmount; requestId?: string },
    call: CallOptions = {},
  ): Promise<(ConsumeAnswer | Refusal) & { requestId: string }> {
    const { teamId, userId, action, credits, requestId = this.newId() } = input;
    const { data, error, response } = await this.keyed(requestId, () =>
      this.api.POST('/v1/teams/{teamId}/members/{userId}/consumptions', {
        params: { path: { teamId, userId } },
        body: { requestId, action, credits },
        signal: call.signal,
      }),
    );
    if (response.status === 402) return { ...(error as Refusal), requestId };
    return { ...ok(data, error, response, requestId), requestId };
  }

  /** The member's live balance of the current period, with the plan's terms. */
  async credits(input: MemberRef, call: CallOptions = {}): Promise<MemberCreditsView> {
    const { teamId, userId } = input;
    const { data, error, response } = await this.api.GET('/v1/teams/{teamId}/members/{userId}/credits', {
      params: { path: { teamId, userId } },
      signal: call.signal,
    });
    return ok(data, error, response) as MemberCreditsView;
  }

  /** Billing: turns pay-as-you-go on or off for a member. */
  async setPayg(input: MemberRef & { enabled: boolean }, call: CallOptions = {}): Promise<PaygAnswer> {
    const { teamId, userId, enabled } = input;
    const { data, error, response } = await this.api.PUT('/v1/teams/{teamId}/members/{userId}/payg', {
      params: { path: { teamId, userId } },
      body: { enabled },
      signal: call.signal,
    });
    return ok(data, error, response) as PaygAnswer;
  }

  /** Billing: buys credits for a member; `purchaseId` (a new UUID unless given) makes it count once. */
  async purchase(
    input: MemberRef & { credits: CreditAmount; purchaseId?: string },
    call: CallOptions = {},
  ): Promise<PurchaseAnswer> {
    const { teamId, userId, credits, purchaseId = this.newId() } = input;
    const { data, error, response } = await this.keyed(purchaseId, () =>
      this.api.POST('/v1/teams/{teamId}/members/{userId}/credit-purchases', {
        params: { path: { teamId, userId } },
        body: { purchaseId, credits },
        signal: call.signal,
      }),
    );
    return ok(data, error, response, purchaseId) as PurchaseAnswer;
  }

  /** One page of the team's members with their balances; `nextCursor` leads to the next. */
  async teamUsage(
    input: { teamId: string; limit?: number; cursor?: string; q?: string },
    call: CallOptions = {},
  ): Promise<TeamUsagePage> {
    const { teamId, limit, cursor, q } = input;
    const { data, error, response } = await this.api.GET('/v1/teams/{teamId}/usage', {
      params: { path: { teamId }, query: { limit: limit === undefined ? undefined : String(limit), cursor, q } },
      signal: call.signal,
    });
    return ok(data, error, response) as TeamUsagePage;
  }

  /** Every page of the team's usage, one request per page: `for await (const page of client.teamUsagePages(…))`. */
  async *teamUsagePages(
    input: { teamId: string; limit?: number; q?: string },
    call: CallOptions = {},
  ): AsyncGenerator<TeamUsagePage, void, undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.teamUsage({ ...input, cursor }, call);
      yield page;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  /**
   * Holds up to `credits` for an action whose cost is known only after it ran (spec §14), or refuses (402: nothing
   * held). Unsettled, the hold is released at `expiresAt` (`ttlSeconds`, default 300).
   */
  async reserve(
    input: MemberRef & { action: ActionName; credits: CreditAmount; ttlSeconds?: number; reservationId?: string },
    call: CallOptions = {},
  ): Promise<Reservation | Refusal> {
    const { teamId, userId, action, credits, ttlSeconds, reservationId = this.newId() } = input;
    const { data, error, response } = await this.keyed(reservationId, () =>
      this.api.POST('/v1/teams/{teamId}/members/{userId}/reservations', {
        params: { path: { teamId, userId } },
        body: { reservationId, action, credits, ...(ttlSeconds === undefined ? {} : { ttlSeconds }) },
        signal: call.signal,
      }),
    );
    if (response.status === 402) return error as Refusal;
    return ok(data, error, response, reservationId) as Reservation;
  }

  /** Records the real cost (0 ≤ credits ≤ held) as a consumption; the rest goes back to the balance. */
  async settle(
    input: MemberRef & { reservationId: string; credits: CreditAmount },
    call: CallOptions = {},
  ): Promise<Settlement> {
    const { teamId, userId, reservationId, credits } = input;
    const { data, error, response } = await this.keyed(reservationId, () =>
      this.api.POST('/v1/teams/{teamId}/members/{userId}/reservations/{reservationId}/settle', {
        params: { path: { teamId, userId, reservationId } },
        body: { credits },
        signal: call.signal,
      }),
    );
    return ok(data, error, response, reservationId) as Settlement;
  }

  /** Gives the held credits back without charging anything. */
  async release(input: MemberRef & { reservationId: string }, call: CallOptions = {}): Promise<Release> {
    const { teamId, userId, reservationId } = input;
    const { data, error, response } = await this.keyed(reservationId, () =>
      this.api.DELETE('/v1/teams/{teamId}/members/{userId}/reservations/{reservationId}', {
        params: { path: { teamId, userId, reservationId } },
        signal: call.signal,
      }),
    );
    return ok(data, error, response, reservationId) as Release;
  }

  /**
   * Reserve → run → settle: holds `maxCredits`, runs `work`, and settles the credits `work` returns. A refusal is
   * returned without running `work`. When `work` throws, the hold is released and the error rethrown. When settling
   * fails, nothing is released (the cost may be recorded already, and releasing would leave the work unbilled): the
   * error names the reservation, and `settle` with the same amount can be sent again until `expiresAt`.
   */
  async withReservation(
    input: MemberRef & { action: ActionName; maxCredits: CreditAmount; ttlSeconds?: number; reservationId?: string },
    work: (reservation: Reservation) => Promise<CreditAmount>,
    call: CallOptions = {},
  ): Promise<Settlement | Refusal> {
    const { maxCredits, ...rest } = input;
    const reservation = await this.reserve({ ...rest, credits: maxCredits }, call);
    if (isRefused(reservation)) return reservation;
    const ref = { teamId: input.teamId, userId: input.userId, reservationId: reservation.reservationId };
    let actual: CreditAmount;
    try {
      actual = await work(reservation);
    } catch (err) {
      // Best effort: a hold that could not be released now still ends at its expiresAt, so work's error wins.
      await this.release(ref, call).catch(() => undefined);
      throw err;
    }
    return this.settle({ ...ref, credits: actual }, call);
  }

  /** Names the call's idempotency key on whatever error it ends with, so the caller can send it again later. */
  private async keyed<T>(idempotencyKey: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      throw err instanceof CreditsApiError ? err.withIdempotencyKey(idempotencyKey) : err;
    }
  }
}

/** The answer's body when it is a success; the API's error answer as a `CreditsApiError` otherwise. */
function ok<T>(data: T | undefined, error: unknown, response: Response, idempotencyKey?: string): T {
  if (response.ok) return data as T;
  const err = CreditsApiError.fromAnswer(response, error);
  throw idempotencyKey === undefined ? err : err.withIdempotencyKey(idempotencyKey);
}

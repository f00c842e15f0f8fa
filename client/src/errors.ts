/**
 * The one error the client throws for a request that did not succeed: an error answer of the API (`status` and the
 * API's `code`), or no answer at all after every attempt (`status` 0, `code` `timeout` or `connection_failed`).
 */
export class CreditsApiError extends Error {
  override readonly name = 'CreditsApiError';
  /** The HTTP status; 0 when no answer came. */
  readonly status: number;
  /** The API's error code (`invalid_request`, `not_found`, `idempotency_key_reused`, …), or `timeout` / `connection_failed`. */
  readonly code: string;
  /** Seconds the API asked to wait (429). */
  readonly retryAfterSeconds?: number;
  /**
   * The `requestId`, `purchaseId` or `reservationId` the request carried. After a `timeout`, `connection_failed` or a
   * 5xx the outcome is unknown: send the same call again with this id later, and it counts once.
   */
  readonly idempotencyKey?: string;

  constructor(input: {
    status: number;
    code: string;
    message: string;
    retryAfterSeconds?: number;
    idempotencyKey?: string;
    cause?: unknown;
  }) {
    super(input.message, input.cause === undefined ? undefined : { cause: input.cause });
    this.status = input.status;
    this.code = input.code;
    this.retryAfterSeconds = input.retryAfterSeconds;
    this.idempotencyKey = input.idempotencyKey;
  }

  /** Whether sending the same request again later may succeed: no answer, 429 or 5xx. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }

  /** The same error, naming the idempotency key of the call that failed. */
  withIdempotencyKey(idempotencyKey: string): CreditsApiError {
    const { status, code, message, retryAfterSeconds, cause } = this;
    return new CreditsApiError({ status, code, message, retryAfterSeconds, cause, idempotencyKey });
  }

  /** The error of an answer that is not a success: the API's `{ error: { code, message } }` when it sent one. */
  static fromAnswer(response: Response, body: unknown): CreditsApiError {
    const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
    return new CreditsApiError({
      status: response.status,
      code: typeof error?.code === 'string' ? error.code : `http_${response.status}`,
      message:
        typeof error?.message === 'string' ? error.message : `${response.status} ${response.statusText}`.trimEnd(),
      retryAfterSeconds: retryAfter === undefined ? undefined : Math.ceil(retryAfter / 1000),
    });
  }
}

/** `Retry-After` in milliseconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

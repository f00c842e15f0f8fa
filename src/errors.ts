/** An error the API returns as `{ error: { code, message } }` with its HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 503,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (message: string) => new ApiError(400, 'invalid_request', message);
export const notFound = (message = 'not found') => new ApiError(404, 'not_found', message);
export const forbidden = (message = 'this token may not do that') => new ApiError(403, 'forbidden', message);
export const unauthorized = (message = 'a valid bearer token is required') =>
  new ApiError(401, 'unauthorized', message);

/** What can go wrong with a credits operation, whoever asked (the API maps each code to an HTTP status). */
export type CreditsErrorCode =
  'invalid_request' | 'not_found' | 'not_allowed' | 'idempotency_key_reused' | 'reservation_not_held' | 'unavailable';

export class CreditsError extends Error {
  constructor(
    readonly code: CreditsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CreditsError';
  }
}

/**
 * JSON schemas that several routes share; each route's own schemas sit beside it in `routes/`. Fastify validates
 * requests with them and @fastify/swagger turns the same objects into `/openapi.json`, so the document cannot
 * drift from what the server accepts.
 */
export const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
export const id = { type: 'string', pattern: ID_PATTERN } as const;
export const key = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' } as const;
/** Credits: a JSON number or a decimal string with at most 3 decimals (checked exactly by parseCredits). */
export const creditsIn = { anyOf: [{ type: 'number' }, { type: 'string', maxLength: 32 }] } as const;
export const creditsOut = { type: 'string', description: 'Decimal credits, e.g. "12.5"' } as const;
export const money = {
  type: 'object',
  properties: { amountMinor: { type: 'integer' }, currency: { type: 'string' } },
  required: ['amountMinor', 'currency'],
} as const;

export const errorBody = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;

/** The contract's error body as one documented answer. */
export const errorResponse = (description: string) => ({ ...errorBody, description });

const USUAL_MEANING = {
  400: 'Bad input (`invalid_request`): the message says which field and why',
  404: "No such team or member (`not_found`); another team's resources answer 404 too",
  409: 'Conflicts with the current state (`conflict`)',
  413: 'The request body is larger than 16 KiB (`too_large`)',
  422: 'Not allowed on this plan (`not_allowed`)',
} as const;

/**
 * The error answers of an authenticated route, for `schema.response`: 401, 403, 429 and 503 always, and those given
 * with what they mean on that route (`true`: the usual meaning). Fastify serializes these answers through `errorBody`
 * too, so the document cannot promise a field the server does not send.
 */
export function errorResponses(specific: { [S in keyof typeof USUAL_MEANING]?: string | true } = {}) {
  const answers: Record<number, ReturnType<typeof errorResponse> & { headers?: object }> = {
    401: errorResponse('No valid bearer token (`unauthorized`): missing, unknown, expired or revoked'),
    403: errorResponse('This token may not do that (`forbidden`)'),
    429: {
      ...errorResponse("Over this token's request rate limit (`rate_limited`): retry after `Retry-After` seconds"),
      headers: { 'retry-after': { type: 'integer', minimum: 1, description: 'Seconds until the limit resets' } },
    },
    503: errorResponse('Not completed now (`unavailable`): retry with the same ids and body, which makes it safe'),
  };
  for (const [key, meaning] of Object.entries(specific)) {
    const status = Number(key) as keyof typeof USUAL_MEANING;
    answers[status] = errorResponse(meaning === true ? USUAL_MEANING[status] : meaning);
  }
  return answers;
}

/**
 * A success answer documented by its status and description only, for a route that declares no body schema: an
 * untyped schema leaves what the route sends as it is (Fastify serializes it with JSON.stringify).
 */
export const described = (description: string) => ({ description });

/** An answer without a body (204). */
export const noContent = (description: string) => ({ type: 'null', description }) as const;

export const balance = {
  type: 'object',
  properties: {
    periodStart: { type: 'string', format: 'date-time' },
    periodEnd: { type: 'string', format: 'date-time' },
    allowance: creditsOut,
    purchased: creditsOut,
    used: creditsOut,
    remaining: creditsOut,
    paygEnabled: { type: 'boolean' },
    paygAvailable: { type: 'boolean' },
    paygCredits: creditsOut,
    paygCharge: money,
    paygCap: { anyOf: [money, { type: 'null' }], description: "The member's monthly PAYG cap (null: none)" },
    held: { ...creditsOut, description: 'Credits held by open reservations (from allowance, purchases and PAYG)' },
    paused: { type: 'boolean' },
  },
  required: [
    'periodStart',
    'periodEnd',
    'allowance',
    'purchased',
    'used',
    'remaining',
    'paygEnabled',
    'paygAvailable',
    'paygCredits',
    'paygCharge',
    'paygCap',
    'held',
    'paused',
  ],
} as const;

/** How an amount was paid for: from the allowance, purchased credits and PAYG (views: chargedView). */
export const charged = {
  type: 'object',
  properties: { total: creditsOut, allowance: creditsOut, purchased: creditsOut, payg: creditsOut },
  required: ['total', 'allowance', 'purchased', 'payg'],
} as const;

/** A plan's terms as answers show them (views: planTermsView). */
export const planTerms = {
  type: 'object',
  properties: {
    planId: { type: 'string' },
    monthlyAllowance: creditsOut,
    paygAvailable: { type: 'boolean' },
    paygRateMicrosPerCredit: {
      type: 'integer',
      description: 'PAYG price of one credit in millionths of the currency (40000: 0.04 USD)',
    },
    purchasesAllowed: { type: 'boolean' },
    purchaseRateMicrosPerCredit: {
      type: 'integer',
      description: 'Price of one purchased credit in millionths of the currency',
    },
    maxPurchaseCredits: creditsOut,
    maxCreditsPerAction: creditsOut,
    currency: { type: 'string' },
    currencyExponent: { type: 'integer', description: 'Decimal places of the minor unit (2 for USD, 0 for JPY)' },
  },
  required: [
    'planId',
    'monthlyAllowance',
    'paygAvailable',
    'paygRateMicrosPerCredit',
    'purchasesAllowed',
    'purchaseRateMicrosPerCredit',
    'maxPurchaseCredits',
    'maxCreditsPerAction',
    'currency',
    'currencyExponent',
  ],
} as const;

export const teamParams = {
  type: 'object',
  properties: { teamId: id },
  required: ['teamId'],
  additionalProperties: false,
} as const;
export const memberParams = {
  type: 'object',
  properties: { teamId: id, userId: id },
  required: ['teamId', 'userId'],
  additionalProperties: false,
} as const;

/** `?limit=&cursor=` of a list that grows: at most 500 a page, 100 unless asked. */
export const pageQuery = {
  type: 'object',
  properties: {
    limit: {
      type: 'string',
      pattern: '^(?:[1-9][0-9]{0,1}|[1-4][0-9]{2}|500)$',
      description: 'Page size, 1-500 (default 100)',
    },
    cursor: { type: 'string', maxLength: 200, description: 'nextCursor of the previous page' },
  },
  additionalProperties: false,
} as const;

export function pageSize(limit: string | undefined): number {
  return limit === undefined ? 100 : Number(limit);
}

/** The `nextCursor` of a list kept in id order: the id of the previous page's last item. */
export const idCursor = {
  type: 'string',
  pattern: '^[0-9]{1,15}$',
  description: 'nextCursor of the previous page',
} as const;

/** A monthly cap in minor units of the team's currency; null removes it. */
export const capMinor = {
  anyOf: [{ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }, { type: 'null' }],
} as const;

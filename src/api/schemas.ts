/**
 * JSON schemas of the API: Fastify validates requests with them and @fastify/swagger turns the same objects
 * into `/openapi.json`, so the document cannot drift from what the server accepts.
 */
import { AGENT_ACTIONS } from '../../workflows/domain/plans';

export const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
const id = { type: 'string', pattern: ID_PATTERN } as const;
const key = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' } as const;
/** Credits: a JSON number or a decimal string with at most 3 decimals (checked exactly by parseCredits). */
const creditsIn = { anyOf: [{ type: 'number' }, { type: 'string', maxLength: 32 }] } as const;
const creditsOut = { type: 'string', description: 'Decimal credits, e.g. "12.5"' } as const;
const money = {
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
    'paused',
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

export const createTeamBody = {
  type: 'object',
  properties: {
    teamId: id,
    plan: { type: 'string', maxLength: 32 },
    billingAnchorDay: { type: 'integer', minimum: 1, maximum: 31 },
    paygThresholdMinor: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  },
  required: ['teamId', 'plan', 'billingAnchorDay'],
  additionalProperties: false,
} as const;

export const putMemberBody = {
  type: 'object',
  properties: {
    email: { type: 'string', format: 'email', maxLength: 320 },
    roles: {
      type: 'array',
      items: { type: 'string', enum: ['member', 'admin', 'billing'] },
      minItems: 1,
      maxItems: 3,
      uniqueItems: true,
    },
  },
  required: ['email', 'roles'],
  additionalProperties: false,
} as const;

export const tokenBody = {
  type: 'object',
  properties: {
    userId: id,
    teamId: id,
    service: { type: 'string', enum: ['agent', 'finance'] },
  },
  additionalProperties: false,
} as const;

export const consumeBody = {
  type: 'object',
  properties: { requestId: key, action: { type: 'string', enum: [...AGENT_ACTIONS] }, credits: creditsIn },
  required: ['requestId', 'action', 'credits'],
  additionalProperties: false,
} as const;

export const consumeResponse = {
  type: 'object',
  properties: {
    decision: { type: 'string', enum: ['allowed', 'allowed_payg', 'refused'] },
    reason: { type: 'string', enum: ['paused', 'insufficient_credits'] },
    charged: {
      type: 'object',
      properties: { total: creditsOut, allowance: creditsOut, purchased: creditsOut, payg: creditsOut },
      required: ['total', 'allowance', 'purchased', 'payg'],
    },
    balance,
  },
  required: ['decision', 'balance'],
} as const;

export const paygBody = {
  type: 'object',
  properties: { enabled: { type: 'boolean' } },
  required: ['enabled'],
  additionalProperties: false,
} as const;

export const purchaseBody = {
  type: 'object',
  properties: { purchaseId: key, credits: creditsIn },
  required: ['purchaseId', 'credits'],
  additionalProperties: false,
} as const;

export const ledgerQuery = {
  type: 'object',
  properties: { periodStart: { type: 'string', format: 'date-time' }, userId: id },
  additionalProperties: false,
} as const;

/**
 * What Redocly's rules cannot know of our API, checked on the document it serves (built without PostgreSQL or
 * Temporal, as `npm run client:generate` builds it): every operation documents each error answer its route can give,
 * with the contract's error body. Redocly asks for one 4xx; a route answers several.
 */
import type { PlanTerms } from '../../workflows/domain/plans';
import type { Balance } from '../../workflows/member-credits/types';
import { chargedView } from '../../src/api/routes/consumptions';
import { balance, charged, planTerms } from '../../src/api/schemas';
import { balanceView, planTermsView } from '../../src/api/views';
import { openApiDocument } from '../../tools/openapi-document';

interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  parameters?: { in: string; name: string }[];
  requestBody?: unknown;
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }>; headers?: object }>;
}

let operations: [string, Operation][];

beforeAll(async () => {
  const doc = (await openApiDocument()) as { paths: Record<string, Record<string, Operation>> };
  operations = Object.entries(doc.paths).flatMap(([p, methods]) =>
    Object.entries(methods).map(([method, op]) => [`${method.toUpperCase()} ${p}`, op] as [string, Operation]),
  );
}, 60_000);

const errorBody = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
};

/** The statuses a route answers, from what it takes: each authenticated route, input, a body, a team in the path. */
function expectedErrors(name: string, op: Operation): string[] {
  const statuses = ['401', '403', '429', '503'];
  if (op.parameters?.length || op.requestBody) statuses.push('400');
  if (op.requestBody) statuses.push('413');
  if (op.parameters?.some((p) => p.in === 'path')) statuses.push('404');
  return statuses.sort();
}

describe('the served OpenAPI document', () => {
  it('names every operation once, with a summary and a tag', () => {
    expect(operations.length).toBeGreaterThanOrEqual(20);
    const ids = operations.map(([, op]) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [name, op] of operations) {
      expect({ name, operationId: op.operationId, summary: op.summary, tags: op.tags?.length }).toEqual({
        name,
        operationId: expect.stringMatching(/^[a-z][A-Za-z]+$/),
        summary: expect.any(String),
        tags: 1,
      });
    }
  });

  it('documents each error answer a route can give, with the error body and what it means', () => {
    for (const [name, op] of operations) {
      const documented = Object.keys(op.responses).filter((s) => /^[45]/.test(s) && s !== '402');
      expect({ name, errors: documented.sort() }).toEqual({
        name,
        errors: expect.arrayContaining(expectedErrors(name, op)),
      });
      for (const status of documented) {
        const answer = op.responses[status];
        expect({ name, status, schema: answer.content?.['application/json'].schema }).toMatchObject({
          name,
          status,
          schema: errorBody,
        });
        expect(answer.description).toMatch(/\(`[a-z_]+`\)/);
      }
      expect(op.responses['429'].headers).toHaveProperty('retry-after');
    }
  });

  it('documents a success answer with its real status', () => {
    const success = Object.fromEntries(
      operations.map(([name, op]) => [name, Object.keys(op.responses).filter((s) => s.startsWith('2'))]),
    );
    expect(success).toMatchObject({
      'POST /v1/teams': ['201'],
      'POST /v1/tokens': ['201'],
      'DELETE /v1/teams/{teamId}/members/{userId}': ['204'],
      'DELETE /v1/tokens/{tokenId}': ['204'],
      'POST /v1/teams/{teamId}/members/{userId}/credit-purchases': ['200', '201'],
    });
    for (const [name, statuses] of Object.entries(success))
      expect({ name, statuses }).not.toEqual({ name, statuses: [] });
  });
});

describe('the shared answer schemas', () => {
  // Fastify serializes an answer through its schema and leaves out any field the schema does not name.
  const fields = (schema: { properties: object; required: readonly string[] }) => ({
    named: Object.keys(schema.properties).sort(),
    required: [...schema.required].sort(),
  });
  const sent = (view: object) => ({ named: Object.keys(view).sort(), required: Object.keys(view).sort() });

  it('name and require every field the views send', () => {
    const b: Balance = {
      periodStart: 0,
      periodEnd: 1,
      allowance: 1000,
      purchased: 0,
      used: 0,
      held: 0,
      remaining: 1000,
      paygEnabled: true,
      paygAvailable: true,
      paygCredits: 0,
      paygChargeMinor: 0,
      paygCapMinor: null,
      currency: 'USD',
      paused: false,
    };
    const plan: PlanTerms = {
      planId: 'basic',
      monthlyAllowance: 400_000,
      paygAvailable: true,
      paygRateMicrosPerCredit: 40_000,
      purchasesAllowed: true,
      purchaseRateMicrosPerCredit: 35_000,
      currency: 'USD',
      currencyExponent: 2,
      maxCreditsPerAction: 200_000,
      maxPurchase: 100_000_000,
    };
    expect(fields(balance)).toEqual(sent(balanceView(b)));
    expect(fields(planTerms)).toEqual(sent(planTermsView(plan)));
    expect(fields(charged)).toEqual(sent(chargedView({ allowance: 1, purchased: 0, payg: 0 })));
  });
});

/**
 * What /openapi.json says of the API as a whole; each operation's part comes from its route's schema. Linted with
 * Redocly's recommended rules (redocly.yaml) and the source of the TypeScript client's types (client/).
 */
import type { SwaggerOptions } from '@fastify/swagger';
import { DEFAULT_RATE_LIMITS } from '../config';

const DESCRIPTION = `Monthly AI credit allowances per team member: Agent Mode records consumption and learns at once
whether an action is allowed; billing admins turn pay-as-you-go on or off and buy credits; finance reads the ledger and
invoices.

- **Credits** are decimals with at most 3 decimal places: a JSON number or a decimal string in requests, a decimal
  string (\`"12.5"\`) in answers. **Money** is \`{ "amountMinor": 1234, "currency": "USD" }\`.
- **Idempotency**: \`requestId\` and \`purchaseId\` are idempotency keys. The same key again answers the first answer and
  changes nothing, so a request whose answer was lost (timeout, 5xx, a dropped connection) is retried with the same key
  and body; the same key with another body answers 409 \`idempotency_key_reused\`.
- **Errors** answer \`{ "error": { "code": "...", "message": "..." } }\`. A refused consumption is not an error: 402 with
  the decision and the balance.
- **Rate limits** per token: ${DEFAULT_RATE_LIMITS.perMinute} requests a minute, ${DEFAULT_RATE_LIMITS.agentPerMinute} for
  agent tokens, unless configured otherwise; over it, 429 with \`Retry-After\`.
- **Lists that grow** take \`?limit=&cursor=\` and answer a \`nextCursor\` (null on the last page).`;

export const openApiOptions: SwaggerOptions = {
  openapi: {
    openapi: '3.0.3',
    info: {
      title: 'AI credits API',
      version: '1.0.0',
      description: DESCRIPTION,
      license: { name: 'Proprietary' },
    },
    // Relative: the API answers where this document is served (spec: relative to the document's location).
    servers: [{ url: '/', description: 'The host serving this document' }],
    tags: [
      { name: 'teams', description: 'Teams and their plans (provisioning)' },
      { name: 'members', description: 'Members of a team and their roles (provisioning, team admins)' },
      { name: 'tokens', description: 'Bearer tokens for members and services: issued, listed, revoked' },
      {
        name: 'credits',
        description: "A member's credits: consumption (Agent Mode), balance, pay-as-you-go and purchases (Billing)",
      },
      {
        name: 'reservations',
        description: 'Reserve, then settle: credits held for an action whose cost is known only after it ran',
      },
      { name: 'usage', description: "The team's resource usage: every member's balance, usage per day" },
      { name: 'invoices', description: 'Invoices with their lines, and the open invoice preview (Billing, finance)' },
      { name: 'ledger', description: 'The append-only credit ledger (finance)' },
      { name: 'audit', description: 'Who did what and when in a team (Admin, Billing, finance)' },
      { name: 'me', description: 'The caller: identity and in-product alerts (member tokens)' },
    ],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A token from POST /v1/tokens (members and services), or the provisioning token of the deployment',
        },
      },
    },
    security: [{ bearer: [] }],
  },
};

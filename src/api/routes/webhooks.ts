/**
 * A team's webhooks (spec §16, Admin and Billing): endpoints (create, replace, list, delete; the secret is shown once,
 * when the service generates it), the delivery log of each, and manual redelivery. The events, their signature and
 * retries: src/webhooks/ and the README's Webhooks section.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { WebhookEndpoint, Delivery, DeliveryWithLog } from '../../db/webhook-store';
import { generateWebhookSecret } from '../../db/webhook-store';
import { ApiError, badRequest, notFound } from '../../errors';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../../webhooks/events';
import { checkWebhookUrl, MAX_WEBHOOK_URL_LENGTH, WebhookUrlError } from '../../webhooks/url-policy';
import { actorOf } from '../auth';
import type { RouteContext } from '../context';
import { described, errorResponses, id, idCursor, noContent, pageQuery, pageSize, teamParams } from '../schemas';
import { iso } from '../views';

/** Endpoints per team: a short list, never paginated. */
export const MAX_WEBHOOKS_PER_TEAM = 20;

const endpointBody = {
  type: 'object',
  properties: {
    url: { type: 'string', minLength: 1, maxLength: MAX_WEBHOOK_URL_LENGTH, description: 'http(s) URL' },
    events: {
      type: 'array',
      items: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] },
      minItems: 1,
      maxItems: WEBHOOK_EVENT_TYPES.length,
      uniqueItems: true,
    },
    secret: {
      type: 'string',
      minLength: 16,
      maxLength: 256,
      pattern: '^[\\x21-\\x7e]+$',
      description: 'Signing secret; absent: generated (and answered once) for a new endpoint, kept for an existing one',
    },
  },
  required: ['url', 'events'],
  additionalProperties: false,
} as const;

const webhookParams = {
  type: 'object',
  properties: { teamId: id, webhookId: id },
  required: ['teamId', 'webhookId'],
  additionalProperties: false,
} as const;

const deliveryParams = {
  type: 'object',
  properties: { teamId: id, webhookId: id, deliveryId: { type: 'string', pattern: '^dlv_[A-Za-z0-9_-]{1,36}$' } },
  required: ['teamId', 'webhookId', 'deliveryId'],
  additionalProperties: false,
} as const;

const logQuery = {
  type: 'object',
  properties: { limit: pageQuery.properties.limit, cursor: idCursor },
  additionalProperties: false,
} as const;

type EndpointBody = { url: string; events: WebhookEventType[]; secret?: string };

export function webhookRoutes({ app, deps, guard }: RouteContext): void {
  const manage = guard('admin', 'billing');

  /** Create or replace an endpoint, with its audit event, in one transaction. */
  const put = async (
    req: FastifyRequest,
    teamId: string,
    webhookId: string,
    body: EndpointBody,
    mustBeNew: boolean,
  ) => {
    const url = await checkedUrl(body.url);
    return deps.transaction(async (s) => {
      if (!(await s.teams.lockTeam(teamId))) throw notFound(`team ${teamId} not found`);
      const existing = await s.webhooks.getEndpoint(teamId, webhookId);
      if (existing && mustBeNew) throw new ApiError(409, 'conflict', `webhook ${webhookId} exists already`);
      if (!existing && (await s.webhooks.listEndpoints(teamId)).length >= MAX_WEBHOOKS_PER_TEAM) {
        throw new ApiError(409, 'too_many_webhooks', `a team has at most ${MAX_WEBHOOKS_PER_TEAM} webhooks`);
      }
      const generated = !existing && body.secret === undefined ? generateWebhookSecret() : undefined;
      const { endpoint, before } = await s.webhooks.putEndpoint({
        teamId,
        webhookId,
        url,
        events: body.events,
        secret: body.secret ?? generated,
      });
      await s.audit.record({
        teamId,
        ...actorOf(req.principal),
        action: before ? 'webhook.changed' : 'webhook.created',
        target: `webhook:${webhookId}`,
        before: before && { url: before.url, events: before.events },
        after: { url: endpoint.url, events: endpoint.events, secretChanged: body.secret !== undefined || !before },
      });
      return { endpoint, created: !before, generated };
    });
  };

  app.post(
    '/v1/teams/:teamId/webhooks',
    {
      schema: {
        summary: 'Register a webhook endpoint',
        operationId: 'createWebhook',
        tags: ['webhooks'],
        description: 'Admin or Billing. The signing secret is in this answer only.',
        params: teamParams,
        body: endpointBody,
        response: {
          201: described('The endpoint, with its secret (shown once)'),
          ...errorResponses({ 400: true, 404: true, 413: true }),
        },
      },
      onRequest: manage,
    },
    async (req, reply) => {
      const { teamId } = req.params as { teamId: string };
      const webhookId = `wh_${randomBytes(12).toString('base64url')}`;
      const r = await put(req, teamId, webhookId, req.body as EndpointBody, true);
      return reply.status(201).send(endpointView(r.endpoint, r.generated));
    },
  );

  app.put(
    '/v1/teams/:teamId/webhooks/:webhookId',
    {
      schema: {
        summary: 'Create or replace a webhook endpoint by id',
        operationId: 'putWebhook',
        tags: ['webhooks'],
        params: webhookParams,
        body: endpointBody,
        response: {
          200: described('The endpoint, changed'),
          201: described('The endpoint, created, with its secret (shown once)'),
          ...errorResponses({ 400: true, 404: true, 413: true }),
        },
      },
      onRequest: manage,
    },
    async (req, reply) => {
      const { teamId, webhookId } = req.params as { teamId: string; webhookId: string };
      const r = await put(req, teamId, webhookId, req.body as EndpointBody, false);
      return reply.status(r.created ? 201 : 200).send(endpointView(r.endpoint, r.generated));
    },
  );

  app.get(
    '/v1/teams/:teamId/webhooks',
    {
      schema: {
        summary: "List a team's webhook endpoints",
        operationId: 'listWebhooks',
        tags: ['webhooks'],
        params: teamParams,
        response: {
          200: described('The endpoints (never their secrets)'),
          ...errorResponses({ 400: true, 404: true }),
        },
      },
      onRequest: manage,
    },
    async (req) => {
      const { teamId } = req.params as { teamId: string };
      return { webhooks: (await deps.webhooks.listEndpoints(teamId)).map((e) => endpointView(e)) };
    },
  );

  app.get(
    '/v1/teams/:teamId/webhooks/:webhookId',
    {
      schema: {
        summary: 'Read a webhook endpoint',
        operationId: 'getWebhook',
        tags: ['webhooks'],
        params: webhookParams,
        response: { 200: described('The endpoint (never its secret)'), ...errorResponses({ 400: true, 404: true }) },
      },
      onRequest: manage,
    },
    async (req) => {
      const { teamId, webhookId } = req.params as { teamId: string; webhookId: string };
      const endpoint = await deps.webhooks.getEndpoint(teamId, webhookId);
      if (!endpoint) throw notFound(`webhook ${webhookId} not found`);
      return endpointView(endpoint);
    },
  );

  app.delete(
    '/v1/teams/:teamId/webhooks/:webhookId',
    {
      schema: {
        summary: 'Delete a webhook endpoint',
        operationId: 'deleteWebhook',
        tags: ['webhooks'],
        params: webhookParams,
        response: {
          204: noContent('Deleted; no more deliveries start for it'),
          ...errorResponses({ 400: true, 404: true }),
        },
      },
      onRequest: manage,
    },
    async (req, reply) => {
      const { teamId, webhookId } = req.params as { teamId: string; webhookId: string };
      await deps.transaction(async (s) => {
        const gone = await s.webhooks.deleteEndpoint(teamId, webhookId);
        if (!gone) throw notFound(`webhook ${webhookId} not found`);
        await s.audit.record({
          teamId,
          ...actorOf(req.principal),
          action: 'webhook.deleted',
          target: `webhook:${webhookId}`,
          before: { url: gone.url, events: gone.events },
          after: null,
        });
      });
      return reply.status(204).send();
    },
  );

  /** The delivery log: newest first, each delivery with its attempts (status, latency, answer, next retry). */
  app.get(
    '/v1/teams/:teamId/webhooks/:webhookId/deliveries',
    {
      schema: {
        summary: "An endpoint's delivery log",
        operationId: 'listWebhookDeliveries',
        tags: ['webhooks'],
        description: 'Deliveries newest first, each with its attempts (status, latency, error) and next retry.',
        params: webhookParams,
        querystring: logQuery,
        response: {
          200: described('A page of deliveries, with `nextCursor`'),
          ...errorResponses({ 400: true, 404: true }),
        },
      },
      onRequest: manage,
    },
    async (req) => {
      const { teamId, webhookId } = req.params as { teamId: string; webhookId: string };
      const { limit, cursor } = req.query as { limit?: string; cursor?: string };
      if (!(await deps.webhooks.getEndpoint(teamId, webhookId))) throw notFound(`webhook ${webhookId} not found`);
      const page = await deps.webhooks.deliveryLog(teamId, webhookId, {
        before: cursor === undefined ? undefined : Number(cursor),
        limit: pageSize(limit),
      });
      return {
        deliveries: page.deliveries.map(deliveryView),
        nextCursor: page.next === null ? null : String(page.next),
      };
    },
  );

  /** The same event (same id and body) to the same endpoint again, as a new delivery with its own retries. */
  app.post(
    '/v1/teams/:teamId/webhooks/:webhookId/deliveries/:deliveryId/redeliver',
    {
      schema: {
        summary: 'Deliver an event again',
        operationId: 'redeliverWebhook',
        tags: ['webhooks'],
        description: 'The same event id and body, to the same endpoint, as a new delivery.',
        params: deliveryParams,
        response: { 202: described('The new delivery, started'), ...errorResponses({ 400: true, 404: true }) },
      },
      onRequest: manage,
    },
    async (req, reply) => {
      const { teamId, webhookId, deliveryId } = req.params as { teamId: string; webhookId: string; deliveryId: string };
      const delivery = await deps.webhooks.redeliver(teamId, webhookId, deliveryId);
      if (!delivery) throw notFound(`delivery ${deliveryId} not found`);
      await deps.deliveries.start([delivery.deliveryId]);
      return reply.status(202).send(deliveryView({ ...delivery, log: [] }));
    },
  );

  async function checkedUrl(raw: string): Promise<string> {
    try {
      return await checkWebhookUrl(raw, { allowPrivate: deps.webhookSettings.allowPrivate });
    } catch (err) {
      if (err instanceof WebhookUrlError) throw badRequest(err.message);
      throw err;
    }
  }
}

function endpointView(e: WebhookEndpoint, secret?: string) {
  return {
    webhookId: e.webhookId,
    url: e.url,
    events: e.events,
    createdAt: iso(e.createdAt),
    updatedAt: iso(e.updatedAt),
    ...(secret === undefined ? {} : { secret }),
  };
}

function deliveryView(d: Delivery | DeliveryWithLog) {
  return {
    deliveryId: d.deliveryId,
    eventId: d.eventId,
    type: d.type,
    manual: d.manual,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.nextAttemptAt === null ? null : iso(d.nextAttemptAt),
    deliveredAt: d.deliveredAt === null ? null : iso(d.deliveredAt),
    createdAt: iso(d.createdAt),
    log:
      'log' in d
        ? d.log.map((a) => ({
            attempt: a.attempt,
            at: iso(a.startedAt),
            statusCode: a.statusCode,
            latencyMs: a.latencyMs,
            error: a.error,
            responseBody: a.responseBody,
            nextRetryAt: a.nextRetryAt === null ? null : iso(a.nextRetryAt),
          }))
        : [],
  };
}

/**
 * Webhooks over real HTTP (spec §16): endpoints registered through the API, events decided by the workflows, each
 * delivered by its own Temporal workflow to a real receiver on loopback, signed, retried, logged and redelivered.
 * Receivers on loopback need `WEBHOOK_ALLOW_PRIVATE=1`, which the test harness sets (TEST_WEBHOOKS); the refusal of
 * private addresses is checked with an API and a worker that do not allow them.
 */
import type { FastifyInstance } from 'fastify';
import { createActivities } from '../../activities';
import { createSmtpMailer } from '../../src/mailer';
import { activityDeps } from '../../src/worker';
import { verifyWebhookSignature, WebhookVerificationError } from '../../src/webhooks/verify';
import { WEBHOOK_EVENT_TYPES } from '../../src/webhooks/events';
import { apiClient, issueToken, PROVISIONING_TOKEN, startApi, useServedApi } from '../support/api';
import { eventually, TEST_WEBHOOKS, uid } from '../support/harness';
import { WebhookReceiver, type ReceivedRequest } from '../support/webhook-receiver';

jest.setTimeout(120_000);

const served = useServedApi();
const receiver = new WebhookReceiver();

beforeAll(() => receiver.start());
afterAll(() => receiver.stop());

/** A basic team (400 credits, PAYG at $0.04) with Billing, an admin and members, through the API at `at`. */
async function team(opts: { paygThresholdMinor?: number; at?: string } = {}) {
  const at = opts.at ?? served.url;
  const p = apiClient(at, PROVISIONING_TOKEN);
  const teamId = uid('team');
  const created = await p('POST', '/v1/teams', {
    teamId,
    plan: 'basic',
    billingAnchorDay: 1,
    ...(opts.paygThresholdMinor === undefined ? {} : { paygThresholdMinor: opts.paygThresholdMinor }),
  });
  expect(created.status).toBe(201);
  for (const [userId, roles] of [
    ['bea', ['billing']],
    ['adm', ['admin']],
    ['ada', ['member']],
    ['cy', ['member']],
  ] as const) {
    expect(
      (await p('PUT', `/v1/teams/${teamId}/members/${userId}`, { email: `${userId}@x.example`, roles })).status,
    ).toBe(200);
  }
  const agent = apiClient(at, await issueToken(at, { service: 'agent', teamId }));
  let n = 0;
  return {
    teamId,
    billing: apiClient(at, await issueToken(at, { teamId, userId: 'bea' })),
    admin: apiClient(at, await issueToken(at, { teamId, userId: 'adm' })),
    member: apiClient(at, await issueToken(at, { teamId, userId: 'ada' })),
    /** Consumptions of at most 200 credits (the plan's largest action) adding up to `credits`; the last answer. */
    consume: async (userId: string, credits: number) => {
      let body: { decision?: string; reason?: string } = {};
      for (let left = credits; left > 0; left -= 200) {
        body = (
          await agent('POST', `/v1/teams/${teamId}/members/${userId}/consumptions`, {
            requestId: `r-${++n}`,
            action: 'chat',
            credits: Math.min(200, left),
          })
        ).body;
      }
      return body;
    },
  };
}

/** The requests to `path` once there are at least `count`. */
function requestsAt(path: string, count: number, timeoutMs = 30_000): Promise<ReceivedRequest[]> {
  return eventually(
    async () => (receiver.at(path).length >= count ? receiver.at(path) : undefined),
    timeoutMs,
    `${count} request(s) at ${path}`,
  );
}

it('delivers every event type, each signed so that verifyWebhookSignature accepts it', async () => {
  const t = await team({ paygThresholdMinor: 10 });
  const path = `/all-${t.teamId}`;
  const created = await t.billing('PUT', `/v1/teams/${t.teamId}/webhooks/all`, {
    url: receiver.on(path, () => 200),
    events: [...WEBHOOK_EVENT_TYPES],
  });
  expect(created.status).toBe(201);
  const secret: string = created.body.secret;
  expect(secret).toMatch(/^whsec_/);
  // The secret is shown once: never when read.
  const listed = await t.admin('GET', `/v1/teams/${t.teamId}/webhooks`);
  expect(listed.body.webhooks).toEqual([
    expect.objectContaining({ webhookId: 'all', events: [...WEBHOOK_EVENT_TYPES] }),
  ]);
  expect(JSON.stringify(listed.body)).not.toContain(secret);

  // ada: 75 %, 100 % and on into PAYG (the team's threshold of 10 cents passes with 5 credits, 20 cents).
  expect((await t.consume('ada', 300)).decision).toBe('allowed');
  expect((await t.consume('ada', 100)).decision).toBe('allowed');
  expect((await t.consume('ada', 5)).decision).toBe('allowed_payg');
  // Her cap of 40 cents refuses 10 more credits (60 cents in all).
  const m = `/v1/teams/${t.teamId}/members/ada`;
  expect((await t.billing('PUT', `${m}/payg`, { enabled: true, monthlyCapMinor: 40 })).status).toBe(200);
  expect(await t.consume('ada', 10)).toMatchObject({ decision: 'refused', reason: 'payg_cap_reached' });
  // PAYG off with no credits left: paused; credits bought: resumed.
  expect((await t.billing('PUT', `${m}/payg`, { enabled: false })).body.balance.paused).toBe(true);
  expect((await t.billing('POST', `${m}/credit-purchases`, { purchaseId: 'p1', credits: 10 })).status).toBe(201);
  // cy meets the team's cap (20 cents, all taken by ada's PAYG).
  expect((await t.billing('PUT', `/v1/teams/${t.teamId}/payg-cap`, { monthlyCapMinor: 20 })).status).toBe(200);
  await t.consume('cy', 400);
  expect(await t.consume('cy', 1)).toMatchObject({ decision: 'refused', reason: 'team_payg_cap_reached' });
  // The team's invoice finalized (as the team workflow does at the billing date; time-skipping tests run that one).
  const mailer = createSmtpMailer(served.h.smtpUrl);
  const activities = createActivities(
    activityDeps({
      db: served.h.db,
      mailer,
      client: served.h.client,
      taskQueue: served.taskQueue,
      plans: served.h.plans,
      webhooks: TEST_WEBHOOKS,
    }),
  );
  await activities.finalizeInvoice({
    teamId: t.teamId,
    currency: 'USD',
    finalizeKey: `test:${t.teamId}`,
    periodStart: 0,
    periodEnd: 0,
  });
  mailer.close();

  const expected = [
    'member.threshold_reached ada 75',
    'member.threshold_reached ada 100',
    'member.payg_started ada',
    'team.payg_threshold_exceeded',
    'member.payg_cap_reached ada member',
    'member.paused ada payg_disabled',
    'member.resumed ada credits_purchased',
    'member.threshold_reached cy 75',
    'member.threshold_reached cy 100',
    'member.payg_cap_reached cy team',
    'invoice.finalized',
  ];
  const got = await requestsAt(path, expected.length);
  const events = got.map((r) => verifyWebhookSignature({ secret, headers: r.headers, body: r.body }));
  const described = events.map((e) => {
    const d = e.data as Record<string, unknown>;
    const threshold = typeof d.threshold === 'number' ? d.threshold : undefined;
    return [e.type, d.userId, threshold, d.scope, d.reason].filter((x) => x !== undefined).join(' ');
  });
  expect(described.sort()).toEqual([...expected].sort());
  expect(new Set(events.map((e) => e.type))).toEqual(new Set(WEBHOOK_EVENT_TYPES));
  for (const [i, r] of got.entries()) {
    expect(r.headers['webhook-id']).toBe(events[i].id);
    expect(r.headers['content-type']).toBe('application/json');
  }
  expect(events.find((e) => e.type === 'team.payg_threshold_exceeded')?.data).toMatchObject({
    teamId: t.teamId,
    paygCharges: { amountMinor: 20, currency: 'USD' },
    threshold: { amountMinor: 10, currency: 'USD' },
  });
  expect(events.find((e) => e.type === 'member.payg_cap_reached' && e.data.scope === 'team')?.data.cap).toEqual({
    amountMinor: 20,
    currency: 'USD',
  });
  // The helper refuses a real delivery checked with another secret, or with a body changed on the way.
  const first = got[0];
  expect(() =>
    verifyWebhookSignature({ secret: 'whsec_not-the-secret-000000', headers: first.headers, body: first.body }),
  ).toThrow(WebhookVerificationError);
  expect(() =>
    verifyWebhookSignature({ secret, headers: first.headers, body: first.body.replace('"data":{', '"data":{"x":1,') }),
  ).toThrow(WebhookVerificationError);
  // The alerts of pausing and resuming, in-product.
  const alerts = await t.member('GET', '/v1/me/alerts');
  expect(alerts.body.alerts.map((a: { kind: string }) => a.kind)).toEqual(
    expect.arrayContaining(['member_paused', 'member_resumed']),
  );
});

it('a receiver that answers 500 three times then 200 gets the event four times with one id; the log shows each; redelivery sends it again', async () => {
  const t = await team();
  const path = `/flaky-${t.teamId}`;
  const secret = 'my-own-secret-0123456789';
  const created = await t.admin('PUT', `/v1/teams/${t.teamId}/webhooks/flaky`, {
    url: receiver.on(path, (n) => (n <= 3 ? 500 : 200)),
    events: ['member.threshold_reached'],
    secret,
  });
  expect(created.status).toBe(201);
  expect(created.body.secret).toBeUndefined(); // the caller gave it: not echoed
  await t.consume('ada', 300); // 75 %

  const log = await eventually(
    async () => {
      const res = await t.admin('GET', `/v1/teams/${t.teamId}/webhooks/flaky/deliveries`);
      return res.body.deliveries?.[0]?.status === 'delivered' ? res.body : undefined;
    },
    30_000,
    'the delivery to be delivered',
  );
  const got = receiver.at(path);
  expect(got).toHaveLength(4);
  expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(1);
  expect(new Set(got.map((r) => r.body)).size).toBe(1);
  for (const r of got)
    expect(verifyWebhookSignature({ secret, headers: r.headers, body: r.body }).type).toBe('member.threshold_reached');
  const [delivery] = log.deliveries;
  expect(delivery).toMatchObject({
    eventId: got[0].headers['webhook-id'],
    type: 'member.threshold_reached',
    manual: false,
    status: 'delivered',
    attempts: 4,
    nextAttemptAt: null,
  });
  expect(delivery.log.map((a: { attempt: number; statusCode: number }) => [a.attempt, a.statusCode])).toEqual([
    [1, 500],
    [2, 500],
    [3, 500],
    [4, 200],
  ]);
  for (const a of delivery.log.slice(0, 3)) {
    expect(a).toMatchObject({ error: 'answered 500', responseBody: expect.stringContaining('failing on purpose') });
    expect(Date.parse(a.nextRetryAt)).toBeGreaterThan(Date.parse(a.at));
  }
  expect(delivery.log[3]).toMatchObject({ error: null, responseBody: 'ok', nextRetryAt: null });

  // Redelivered by hand: the same event (id and body) as a new delivery.
  const again = await t.billing(
    'POST',
    `/v1/teams/${t.teamId}/webhooks/flaky/deliveries/${delivery.deliveryId}/redeliver`,
  );
  expect(again.status).toBe(202);
  expect(again.body).toMatchObject({ eventId: delivery.eventId, manual: true, status: 'pending' });
  const fifth = (await requestsAt(path, 5))[4];
  expect(fifth.headers['webhook-id']).toBe(delivery.eventId);
  expect(fifth.body).toBe(got[0].body);
  const after = await eventually(
    async () => {
      const res = await t.admin('GET', `/v1/teams/${t.teamId}/webhooks/flaky/deliveries?limit=1`);
      return res.body.deliveries[0].status === 'delivered' ? res.body : undefined;
    },
    30_000,
    'the redelivery',
  );
  expect(after.deliveries[0]).toMatchObject({ deliveryId: again.body.deliveryId, manual: true, attempts: 1 });
  expect(after.nextCursor).not.toBeNull();
  expect((await t.member('GET', `/v1/teams/${t.teamId}/webhooks/flaky/deliveries`)).status).toBe(403);
});

it('a receiver that is down holds back neither the answer and its ledger rows, nor the alerts, nor another endpoint', async () => {
  const t = await team();
  const down = `/down-${t.teamId}`;
  const up = `/up-${t.teamId}`;
  for (const [id, path, behaviour] of [
    ['down', down, () => 503],
    ['up', up, () => 200],
  ] as const) {
    await t.billing('PUT', `/v1/teams/${t.teamId}/webhooks/${id}`, {
      url: receiver.on(path, behaviour),
      events: ['member.threshold_reached'],
    });
  }
  expect((await t.consume('ada', 300)).decision).toBe('allowed'); // answered once its ledger rows were written
  await requestsAt(up, 1);
  await requestsAt(down, 2); // failed twice, and still going
  const [downLog, upLog] = await Promise.all(
    ['down', 'up'].map(async (id) => (await t.billing('GET', `/v1/teams/${t.teamId}/webhooks/${id}/deliveries`)).body),
  );
  expect(upLog.deliveries[0]).toMatchObject({ status: 'delivered', attempts: 1 });
  expect(downLog.deliveries[0]).toMatchObject({ status: 'pending', eventId: upLog.deliveries[0].eventId });
  expect(downLog.deliveries[0].nextAttemptAt).not.toBeNull();
  const alerts = (await t.member('GET', '/v1/me/alerts')).body.alerts.map((a: { kind: string }) => a.kind);
  expect(alerts).toContain('member_75');
  // Deleted, its delivery stops at its next attempt.
  expect((await t.billing('DELETE', `/v1/teams/${t.teamId}/webhooks/down`)).status).toBe(204);
});

it('a receiver that hangs is given up on after 5 s and retried', async () => {
  const t = await team();
  const path = `/slow-${t.teamId}`;
  await t.billing('PUT', `/v1/teams/${t.teamId}/webhooks/slow`, {
    url: receiver.on(path, (n) => (n === 1 ? 'hang' : 200)),
    events: ['member.threshold_reached'],
  });
  await t.consume('ada', 300);
  const got = await requestsAt(path, 2);
  expect(got[1].headers['webhook-id']).toBe(got[0].headers['webhook-id']);
  const log = await eventually(
    async () => {
      const res = await t.billing('GET', `/v1/teams/${t.teamId}/webhooks/slow/deliveries`);
      return res.body.deliveries[0]?.status === 'delivered' ? res.body.deliveries[0].log : undefined;
    },
    30_000,
    'the delivery after the timeout',
  );
  expect(log[0]).toMatchObject({ attempt: 1, statusCode: null, error: 'no answer within 5 s' });
  expect(log[0].latencyMs).toBeGreaterThanOrEqual(5_000);
  expect(log[1]).toMatchObject({ attempt: 2, statusCode: 200 });
});

describe('where webhooks may point', () => {
  let strict: FastifyInstance | undefined;
  afterAll(() => strict?.close());

  it('refuses private, loopback and link-local addresses at registration (400, nothing stored)', async () => {
    const api = await startApi(served.h, served.taskQueue, { webhooks: { ...TEST_WEBHOOKS, allowPrivate: false } });
    strict = api.app;
    const t = await team({ at: api.url });
    for (const bad of [
      'http://127.0.0.1:8080/hook',
      'http://localhost/hook',
      'http://[::1]/hook',
      'http://10.0.0.7/hook',
      'http://192.168.1.10/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::ffff:127.0.0.1]/hook',
      'ftp://example.com/hook',
    ]) {
      const res = await t.billing('POST', `/v1/teams/${t.teamId}/webhooks`, { url: bad, events: ['member.paused'] });
      expect({ bad, status: res.status, code: res.body.error?.code }).toEqual({
        bad,
        status: 400,
        code: 'invalid_request',
      });
    }
    expect((await t.billing('GET', `/v1/teams/${t.teamId}/webhooks`)).body.webhooks).toEqual([]);
    const audit = await t.admin('GET', `/v1/teams/${t.teamId}/audit`);
    expect(audit.body.events.map((e: { action: string }) => e.action)).not.toContain('webhook.created');
  });

  it('checks the address again after DNS resolution at delivery: nothing reaches a private one', async () => {
    const path = `/rebind-${uid('x')}`;
    await served.h.withWorker(
      async (taskQueue) => {
        // Registered where private addresses are allowed, delivered by a worker where they are not.
        const api = await startApi(served.h, taskQueue);
        try {
          const t = await team({ at: api.url });
          const port = new URL(receiver.on(path, () => 200)).port;
          expect(
            (
              await t.billing('PUT', `/v1/teams/${t.teamId}/webhooks/rebind`, {
                url: `http://localhost:${port}${path}`,
                events: ['member.threshold_reached'],
              })
            ).status,
          ).toBe(201);
          await t.consume('ada', 300);
          const log = await eventually(
            async () => {
              const res = await t.billing('GET', `/v1/teams/${t.teamId}/webhooks/rebind/deliveries`);
              const d = res.body.deliveries[0];
              return d?.log.length >= 2 ? d : undefined;
            },
            30_000,
            'two refused attempts',
          );
          expect(log.status).toBe('pending');
          expect(log.log[0]).toMatchObject({ statusCode: null, error: expect.stringMatching(/not a public address/) });
          expect(receiver.at(path)).toHaveLength(0);
          // Deleting the endpoint ends its deliveries (and their log).
          expect((await t.billing('DELETE', `/v1/teams/${t.teamId}/webhooks/rebind`)).status).toBe(204);
          expect((await t.billing('GET', `/v1/teams/${t.teamId}/webhooks/rebind/deliveries`)).status).toBe(404);
        } finally {
          await api.app.close();
        }
      },
      undefined,
      { ...TEST_WEBHOOKS, allowPrivate: false },
    );
  });
});

it('endpoints: created with a generated id, replaced, read, deleted, each in the audit trail; bad bodies are 400', async () => {
  const t = await team();
  const base = `/v1/teams/${t.teamId}/webhooks`;
  const created = await t.billing('POST', base, {
    url: receiver.on('/crud', () => 200),
    events: ['invoice.finalized'],
  });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({
    webhookId: expect.stringMatching(/^wh_/),
    secret: expect.stringMatching(/^whsec_/),
  });
  const id = created.body.webhookId;
  const replaced = await t.admin('PUT', `${base}/${id}`, {
    url: receiver.on('/crud2', () => 200),
    events: ['member.paused', 'member.resumed'],
  });
  expect(replaced.status).toBe(200);
  expect(replaced.body.secret).toBeUndefined(); // kept, not shown again
  expect((await t.admin('GET', `${base}/${id}`)).body).toMatchObject({ events: ['member.paused', 'member.resumed'] });
  for (const body of [
    { url: 'http://127.0.0.1/x', events: [] },
    { url: 'http://127.0.0.1/x', events: ['member.unknown'] },
    { url: 'http://127.0.0.1/x', events: ['member.paused'], secret: 'short' },
    { url: 'http://127.0.0.1/x', events: ['member.paused'], extra: 1 },
    { events: ['member.paused'] },
  ]) {
    expect((await t.billing('POST', base, body)).status).toBe(400);
  }
  expect((await t.member('POST', base, { url: 'http://127.0.0.1/x', events: ['member.paused'] })).status).toBe(403);
  expect((await t.billing('DELETE', `${base}/${id}`)).status).toBe(204);
  expect((await t.billing('DELETE', `${base}/${id}`)).status).toBe(404);
  const audit = await t.admin('GET', `/v1/teams/${t.teamId}/audit`);
  const actions = audit.body.events.filter((e: { target: string }) => e.target === `webhook:${id}`);
  expect(actions.map((e: { action: string }) => e.action)).toEqual([
    'webhook.created',
    'webhook.changed',
    'webhook.deleted',
  ]);
  expect(JSON.stringify(audit.body)).not.toContain(created.body.secret);
});

/**
 * The TypeScript client (client/) against the real API, worker and ledger. Faults come from a proxy on loopback that
 * forwards each request and then loses the answer (test/support/fault-proxy.ts): the API really carried the request
 * out, so a retry that changed the id would count the action twice.
 */
import { CreditsApiError, CreditsClient, isRefused, type Balance, type CreditsClientOptions } from '../../client/src';
import { parseCredits } from '../../workflows/domain/credits';
import { PROVISIONING_TOKEN, startApi, useServedApi } from '../support/api';
import { FaultProxy } from '../support/fault-proxy';
import { eventually, uid } from '../support/harness';

const served = useServedApi();
let proxy: FaultProxy;
let proxied: string;
let prov: CreditsClient;
/** A team on the basic plan (400 credits, PAYG, purchases): its Billing member, agent and finance tokens. */
const basic = { teamId: '', billing: '', agent: '', finance: '' };

/** Quick retries: the faults are the proxy's, not a loaded server's. */
const FAST: CreditsClientOptions['retry'] = { baseDelayMs: 20, maxDelayMs: 200 };

const client = (token: string, options: Partial<CreditsClientOptions> = {}) =>
  new CreditsClient({ baseUrl: proxied, token, ...options, retry: { ...FAST, ...options.retry } });

beforeAll(async () => {
  proxy = new FaultProxy(served.url);
  proxied = await proxy.start();
  prov = new CreditsClient({ baseUrl: served.url, token: PROVISIONING_TOKEN });
  basic.teamId = await createTeam('basic', ['ana', 'ben', 'bill']);
  basic.billing = await issueToken({ teamId: basic.teamId, userId: 'bill' });
  basic.agent = await issueToken({ teamId: basic.teamId, service: 'agent' });
  basic.finance = await issueToken({ teamId: basic.teamId, service: 'finance' });
});

afterAll(async () => {
  await proxy?.stop();
});

/** Provisioning through the client's typed `api`, straight to the API. */
async function createTeam(plan: string, members: string[]): Promise<string> {
  const teamId = uid('team');
  expect((await prov.api.POST('/v1/teams', { body: { teamId, plan, billingAnchorDay: 1 } })).response.status).toBe(201);
  for (const userId of members) {
    const roles: ('member' | 'billing')[] = userId === 'bill' ? ['member', 'billing'] : ['member'];
    const { response } = await prov.api.PUT('/v1/teams/{teamId}/members/{userId}', {
      params: { path: { teamId, userId } },
      body: { email: `${userId}@${teamId}.example`, roles },
    });
    expect(response.status).toBe(200);
  }
  return teamId;
}

async function issueToken(body: { teamId: string; userId?: string; service?: 'agent' | 'finance' }): Promise<string> {
  const { data, response } = await prov.api.POST('/v1/tokens', { body });
  expect(response.status).toBe(201);
  return (data as { token: string }).token;
}

/** The member's ledger rows of one request id, as finance reads them. */
async function ledgerRows(userId: string, requestId: string): Promise<{ credits: string }[]> {
  const finance = new CreditsClient({ baseUrl: served.url, token: basic.finance });
  const { data } = await finance.api.GET('/v1/teams/{teamId}/ledger', {
    params: { path: { teamId: basic.teamId }, query: { userId } },
  });
  const { entries } = data as { entries: { requestId: string | null; credits: string }[] };
  return entries.filter((e) => e.requestId === requestId);
}

/** Waits for the row of `requestId` (the ledger write may trail the answer), then counts them. */
async function ledgerRowCount(userId: string, requestId: string): Promise<number> {
  const rows = await eventually(async () => {
    const found = await ledgerRows(userId, requestId);
    return found.length > 0 ? found : undefined;
  });
  return rows.length;
}

async function caught(promise: Promise<unknown>): Promise<CreditsApiError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CreditsApiError);
  return err as CreditsApiError;
}

describe('the convenience methods', () => {
  it('consume: allowed with a new requestId, the same id answers the first answer, refused is an answer', async () => {
    const agent = client(basic.agent);
    const first = await agent.consume({
      teamId: basic.teamId,
      userId: 'ana',
      action: 'generate_request',
      credits: 2.5,
    });
    expect(first).toMatchObject({
      requestId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      decision: 'allowed',
      charged: { total: '2.5', allowance: '2.5', purchased: '0', payg: '0' },
      balance: { allowance: '400', used: '2.5', remaining: '397.5', paused: false },
    });
    const again = await agent.consume({
      teamId: basic.teamId,
      userId: 'ana',
      action: 'generate_request',
      credits: '2.5',
      requestId: first.requestId,
    });
    expect(again).toEqual(first);

    // PAYG off, then more than remains: refused (402) and returned, not thrown; nothing recorded.
    const billing = client(basic.billing);
    const off = await billing.setPayg({ teamId: basic.teamId, userId: 'ben', enabled: false });
    expect(off).toEqual({
      teamId: basic.teamId,
      userId: 'ben',
      balance: expect.objectContaining({ paygEnabled: false, remaining: '400' }),
    });
    for (let i = 0; i < 2; i++)
      await agent.consume({ teamId: basic.teamId, userId: 'ben', action: 'chat', credits: 200 });
    const from = proxy.requests.length;
    const refused = await agent.consume({ teamId: basic.teamId, userId: 'ben', action: 'chat', credits: 1 });
    expect(isRefused(refused)).toBe(true);
    expect(refused).toMatchObject({ decision: 'refused', reason: 'paused', balance: { used: '400', remaining: '0' } });
    expect(proxy.since(from).map((r) => r.status)).toEqual([402]);
    await billing.setPayg({ teamId: basic.teamId, userId: 'ben', enabled: true });
    const payg = await agent.consume({ teamId: basic.teamId, userId: 'ben', action: 'chat', credits: 1 });
    expect(payg).toMatchObject({ decision: 'allowed_payg', charged: { payg: '1' } });
  });

  it('credits, setPayg and purchase answer the documented views; a purchase counts once by its purchaseId', async () => {
    const billing = client(basic.billing);
    const bought = await billing.purchase({ teamId: basic.teamId, userId: 'bill', credits: '10' });
    expect(bought).toEqual({
      purchaseId: expect.any(String),
      credits: '10',
      price: { amountMinor: 35, currency: 'USD' },
      balance: expect.objectContaining({ purchased: '10', remaining: '410' }),
    });
    const boughtAgain = await billing.purchase({
      teamId: basic.teamId,
      userId: 'bill',
      credits: 10,
      purchaseId: bought.purchaseId,
    });
    expect(boughtAgain).toEqual(bought);

    const view = await billing.credits({ teamId: basic.teamId, userId: 'bill' });
    expect(view).toEqual({
      teamId: basic.teamId,
      userId: 'bill',
      plan: 'basic',
      planTerms: expect.objectContaining({ planId: 'basic', monthlyAllowance: '400', purchasesAllowed: true }),
      notificationsSent: [],
      balance: expect.objectContaining({ allowance: '400', purchased: '10', used: '0', paygEnabled: true }),
    });
    const off = await billing.setPayg({ teamId: basic.teamId, userId: 'bill', enabled: false });
    expect(off.balance.paygEnabled).toBe(false);
    expect((await billing.credits({ teamId: basic.teamId, userId: 'bill' })).balance.paygEnabled).toBe(false);
  });

  it('teamUsage pages by nextCursor; teamUsagePages walks them all', async () => {
    const members = ['m1', 'm2', 'm3', 'm4', 'bill'];
    const teamId = await createTeam('basic', members);
    const billing = client(await issueToken({ teamId, userId: 'bill' }));
    const first = await billing.teamUsage({ teamId, limit: 2 });
    expect(first.members.map((m) => m.userId)).toEqual(['bill', 'm1']);
    expect(first.nextCursor).toEqual(expect.any(String));

    const pages = [];
    for await (const page of billing.teamUsagePages({ teamId, limit: 2 })) pages.push(page);
    expect(pages.map((p) => p.members.map((m) => m.userId))).toEqual([['bill', 'm1'], ['m2', 'm3'], ['m4']]);
    expect(pages.map((p) => p.nextCursor === null)).toEqual([false, false, true]);
    expect(pages[2].members[0]).toEqual({
      userId: 'm4',
      email: `m4@${teamId}.example`,
      roles: ['member'],
      balance: expect.objectContaining({ allowance: '400', used: '0' }),
    });
  });
});

describe('retries', () => {
  it('an answer lost after the API carried the request out: sent again with the same requestId, counted once', async () => {
    const agent = client(basic.agent);
    const from = proxy.requests.length;
    proxy.failNext('drop');
    const answer = await agent.consume({ teamId: basic.teamId, userId: 'ana', action: 'write_tests', credits: '1.25' });
    const sent = proxy.since(from);
    expect(sent.map((r) => [r.status, r.fault])).toEqual([
      [200, 'drop'],
      [200, undefined],
    ]);
    expect(sent[1].body).toBe(sent[0].body);
    expect(JSON.parse(sent[0].body)).toEqual({ requestId: answer.requestId, action: 'write_tests', credits: '1.25' });
    // The second answer is the first one, and it is what the caller got.
    expect(sent[1].answer).toBe(sent[0].answer);
    const { requestId, ...body } = answer;
    expect(JSON.parse(sent[0].answer)).toEqual(body);
    expect(await ledgerRowCount('ana', requestId)).toBe(1);
  });

  it('a 5xx is sent again with the same body; the retry is reported', async () => {
    const retries: string[] = [];
    const agent = client(basic.agent, { retry: { onRetry: (r) => retries.push(r.reason) } });
    const from = proxy.requests.length;
    proxy.failNext('bad_gateway');
    const answer = await agent.consume({ teamId: basic.teamId, userId: 'ana', action: 'chat', credits: 3 });
    const sent = proxy.since(from);
    expect(sent.map((r) => r.fault)).toEqual(['bad_gateway', undefined]);
    expect(sent[1].body).toBe(sent[0].body);
    expect(retries).toEqual(['http_502']);
    expect(answer.decision).toBe('allowed');
    expect(await ledgerRowCount('ana', answer.requestId)).toBe(1);
  });

  it('an attempt past its timeout is abandoned and sent again with the same requestId', async () => {
    const retries: string[] = [];
    const agent = client(basic.agent, { retry: { timeoutMs: 3_000, onRetry: (r) => retries.push(r.reason) } });
    const from = proxy.requests.length;
    // The API's answer to the first attempt is held back for longer than the whole test may take.
    proxy.failNext({ delayMs: 600_000 });
    const answer = await agent.consume({ teamId: basic.teamId, userId: 'ana', action: 'chat', credits: '0.5' });
    const sent = proxy.since(from);
    // A later attempt times out too only when the API takes over 3 s to answer: each is then reported and resent.
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(new Set(retries)).toEqual(new Set(['timeout']));
    expect(sent).toHaveLength(retries.length + 1);
    expect(new Set(sent.map((r) => r.body)).size).toBe(1);
    expect(JSON.parse(sent[0].body).requestId).toBe(answer.requestId);
    expect(await ledgerRowCount('ana', answer.requestId)).toBe(1);
  });

  it('no answer after every attempt: a typed error naming the requestId, which counts once when sent later', async () => {
    const agent = client(basic.agent, { retry: { attempts: 3 } });
    const from = proxy.requests.length;
    proxy.failNext('drop', 'drop', 'drop');
    const err = await caught(agent.consume({ teamId: basic.teamId, userId: 'ana', action: 'chat', credits: 2 }));
    expect(err).toMatchObject({ status: 0, code: 'connection_failed', retryable: true });
    const requestId = err.idempotencyKey!;
    expect(proxy.since(from).map((r) => JSON.parse(r.body).requestId)).toEqual([requestId, requestId, requestId]);

    const later = await agent.consume({ teamId: basic.teamId, userId: 'ana', action: 'chat', credits: 2, requestId });
    expect(JSON.parse(proxy.since(from)[0].answer)).toEqual({ ...later, requestId: undefined });
    expect(await ledgerRowCount('ana', requestId)).toBe(1);
  });

  it('a POST without an idempotency key is never sent twice: an issued token is not issued again', async () => {
    const provisioning = client(PROVISIONING_TOKEN);
    const from = proxy.requests.length;
    proxy.failNext('drop');
    const err = await caught(
      provisioning.api.POST('/v1/tokens', { body: { teamId: basic.teamId, service: 'finance' } }),
    );
    expect(err).toMatchObject({ status: 0, code: 'connection_failed' });
    expect(proxy.since(from).map((r) => r.status)).toEqual([201]);
  });
});

describe('errors', () => {
  it('4xx answers are typed errors and sent once', async () => {
    const agent = client(basic.agent);
    const billing = client(basic.billing);
    const from = proxy.requests.length;

    const bad = await caught(
      agent.consume({ teamId: basic.teamId, userId: 'ana', action: 'chat', credits: '1.0001', requestId: 'bad-1' }),
    );
    expect(bad).toMatchObject({ status: 400, code: 'invalid_request', idempotencyKey: 'bad-1', retryable: false });
    expect(bad.message).toMatch(/3 decimal/);

    const first = await agent.consume({ teamId: basic.teamId, userId: 'ana', action: 'chat', credits: 1 });
    const reused = await caught(
      agent.consume({ teamId: basic.teamId, userId: 'ana', action: 'chat', credits: 2, requestId: first.requestId }),
    );
    expect(reused).toMatchObject({ status: 409, code: 'idempotency_key_reused', idempotencyKey: first.requestId });

    const unknown = await caught(billing.credits({ teamId: basic.teamId, userId: 'nobody' }));
    expect(unknown).toMatchObject({ status: 404, code: 'not_found' });
    const forbidden = await caught(agent.credits({ teamId: basic.teamId, userId: 'ana' }));
    expect(forbidden).toMatchObject({ status: 403, code: 'forbidden' });
    const unauthorized = await caught(client('aic_not_a_token').credits({ teamId: basic.teamId, userId: 'ana' }));
    expect(unauthorized).toMatchObject({ status: 401, code: 'unauthorized' });

    const free = await createTeam('free', ['bill']);
    const freeBilling = client(await issueToken({ teamId: free, userId: 'bill' }));
    const notSold = await caught(freeBilling.purchase({ teamId: free, userId: 'bill', credits: 5, purchaseId: 'p-1' }));
    expect(notSold).toMatchObject({ status: 422, code: 'not_allowed', idempotencyKey: 'p-1' });

    expect(proxy.since(from).map((r) => r.status)).toEqual([400, 200, 409, 404, 403, 401, 422]);
  });

  it('429 is a 4xx too: sent once, a typed error with the Retry-After the API asked for', async () => {
    // Its own API with a tiny limit, so that the limit is reached by this test's requests alone.
    const LIMIT = 2;
    const limited = await startApi(served.h, served.taskQueue, {
      rateLimits: { perMinute: LIMIT, agentPerMinute: LIMIT },
    });
    const limitedProxy = new FaultProxy(limited.url);
    try {
      const finance = new CreditsClient({ baseUrl: await limitedProxy.start(), token: basic.finance, retry: FAST });
      const member = { teamId: basic.teamId, userId: 'ana' };
      for (let i = 0; i < LIMIT; i++) await finance.credits(member);
      const limitedErr = await caught(finance.credits(member));
      const sent = limitedProxy.requests;
      expect(sent.map((r) => r.status)).toEqual([200, 200, 429]);
      expect(limitedErr).toMatchObject({
        status: 429,
        code: 'rate_limited',
        retryable: true,
        retryAfterSeconds: Number(sent[2].retryAfter),
      });
      expect(limitedErr.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    } finally {
      await limitedProxy.stop();
      await limited.app.close();
    }
  });
});

describe('reserve → run → settle', () => {
  it('withReservation holds the maximum, settles what the work cost, and gives the rest back', async () => {
    const agent = client(basic.agent);
    const member = { teamId: basic.teamId, userId: 'ana' };
    const before = (await client(basic.finance).credits(member)).balance;
    let during: Balance | undefined;
    const settled = await agent.withReservation({ ...member, action: 'write_tests', maxCredits: 10 }, async (held) => {
      expect(held).toMatchObject({ status: 'held', held: '10', balance: { held: '10' } });
      during = held.balance;
      return '3.5';
    });
    expect(isRefused(settled)).toBe(false);
    expect(settled).toMatchObject({ status: 'settled', decision: 'allowed', charged: { total: '3.5' } });
    expect(parseCredits(during!.remaining)).toBe(parseCredits(before.remaining) - 10_000);
    expect(parseCredits(settled.balance.remaining)).toBe(parseCredits(before.remaining) - 3_500);
    expect(settled.balance).toMatchObject({ held: '0' });
  });

  it('work that throws releases the hold; release and settle are idempotent by the reservationId', async () => {
    const agent = client(basic.agent);
    const member = { teamId: basic.teamId, userId: 'ben' };
    const start = proxy.requests.length;
    let reservationId = '';
    await expect(
      agent.withReservation({ ...member, action: 'chat', maxCredits: 5 }, async (held) => {
        reservationId = held.reservationId;
        throw new Error('the model timed out');
      }),
    ).rejects.toThrow('the model timed out');
    const released = await agent.release({ ...member, reservationId });
    expect(released).toMatchObject({ reservationId, status: 'released', expired: false, balance: { held: '0' } });
    // withReservation released it when the work threw; the release sent again answered the same.
    const releases = proxy.since(start).filter((r) => r.method === 'DELETE');
    expect(releases.map((r) => [r.status, r.answer])).toEqual([
      [200, releases[0].answer],
      [200, releases[0].answer],
    ]);
    const late = await caught(agent.settle({ ...member, reservationId, credits: 1 }));
    expect(late).toMatchObject({ status: 409, code: 'reservation_not_held', idempotencyKey: reservationId });

    const from = proxy.requests.length;
    const held = await agent.reserve({ ...member, action: 'chat', credits: 4 });
    if (isRefused(held)) throw new Error('refused');
    proxy.failNext('drop');
    const settled = await agent.settle({ ...member, reservationId: held.reservationId, credits: 2 });
    const settles = proxy.since(from).filter((r) => r.path.endsWith('/settle'));
    expect(settles.map((r) => r.body)).toEqual([settles[0].body, settles[0].body]);
    expect(settles[1].answer).toBe(settles[0].answer);
    expect(settled).toMatchObject({ status: 'settled', charged: { total: '2' } });
    // The settle's ledger rows (request id `r:<reservationId>`) carry its cost once, whichever attempt answered.
    const rows = await eventually(async () => {
      const found = await ledgerRows('ben', `r:${held.reservationId}`);
      return found.length > 0 ? found : undefined;
    });
    expect(rows.reduce((sum, r) => sum + parseCredits(r.credits), 0)).toBe(2_000);
    const other = await caught(agent.settle({ ...member, reservationId: held.reservationId, credits: 3 }));
    expect(other).toMatchObject({ status: 409, code: 'idempotency_key_reused' });
  });

  it('a reservation that does not fit is refused and the work never runs', async () => {
    const free = await createTeam('free', ['fay']);
    const agent = client(await issueToken({ teamId: free, service: 'agent' }));
    const work = jest.fn(async () => 1);
    const answer = await agent.withReservation({ teamId: free, userId: 'fay', action: 'chat', maxCredits: 60 }, work);
    expect(answer).toMatchObject({ decision: 'refused', balance: { remaining: '50' } });
    expect(work).not.toHaveBeenCalled();
  });
});

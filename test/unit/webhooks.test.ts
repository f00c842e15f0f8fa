import { memberEventRecord, webhookEventId } from '../../src/webhooks/events';
import { checkWebhookUrl, isPublicAddress, parseWebhookUrl, WebhookUrlError } from '../../src/webhooks/url-policy';
import { signWebhook, verifyWebhookSignature, WebhookVerificationError } from '../../src/webhooks/verify';
import type { MemberEvent } from '../../workflows/member-credits/types';
import { DEFAULT_WEBHOOK_RETRY, nextAttemptAt } from '../../workflows/webhook-delivery/types';

describe('webhook signatures', () => {
  const secret = 'whsec_test-secret-0123456789';
  const body = '{"id":"evt_1","type":"member.paused","createdAt":"2026-12-01T00:00:00.000Z","data":{}}';
  const now = Date.UTC(2026, 11, 1, 12);
  const ts = Math.floor(now / 1000);
  const headers = (signature: string, timestamp = ts, id = 'evt_1') => ({
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signature,
  });

  it('is v1, base64 HMAC-SHA256 of "id.timestamp.body" with the secret', () => {
    const { createHmac } = jest.requireActual<typeof import('node:crypto')>('node:crypto');
    const expected = createHmac('sha256', secret).update(`evt_1.${ts}.${body}`).digest('base64');
    expect(signWebhook(secret, 'evt_1', ts, body)).toBe(`v1,${expected}`);
  });

  it('accepts a valid signature (among others, as during a secret rotation) and returns the event', () => {
    const good = signWebhook(secret, 'evt_1', ts, body);
    const other = signWebhook('another-secret-0123456789', 'evt_1', ts, body);
    expect(verifyWebhookSignature({ secret, headers: headers(good), body, now })).toMatchObject({ id: 'evt_1' });
    expect(
      verifyWebhookSignature({ secret, headers: headers(`${other} ${good}`), body: Buffer.from(body), now }).type,
    ).toBe('member.paused');
    expect(verifyWebhookSignature({ secret, headers: new Headers(headers(good)), body, now }).id).toBe('evt_1');
  });

  it.each([
    ['another secret', () => headers(signWebhook('wrong-secret-0123456789', 'evt_1', ts, body)), body],
    ['a changed body', () => headers(signWebhook(secret, 'evt_1', ts, body)), body.replace('paused', 'resumed')],
    ['another id', () => headers(signWebhook(secret, 'evt_1', ts, body), ts, 'evt_2'), body],
    ['an old timestamp', () => headers(signWebhook(secret, 'evt_1', ts - 301, body), ts - 301), body],
    ['a timestamp not a number', () => ({ ...headers('v1,x'), 'webhook-timestamp': '12a' }), body],
    ['an unknown version', () => headers(signWebhook(secret, 'evt_1', ts, body).replace('v1,', 'v2,')), body],
    ['no signature', () => ({ 'webhook-id': 'evt_1', 'webhook-timestamp': String(ts) }), body],
  ])('refuses %s', (_what, h, b) => {
    expect(() => verifyWebhookSignature({ secret, headers: h(), body: b, now })).toThrow(WebhookVerificationError);
  });
});

describe('webhook URL policy', () => {
  it.each([
    ['127.0.0.1', false],
    ['127.255.0.9', false],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['172.31.255.255', false],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['224.0.0.1', false],
    ['255.255.255.255', false],
    ['::1', false],
    ['::', false],
    ['fe80::1', false],
    ['fd00::1', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:7f00:1', false],
    ['::ffff:a9fe:a9fe', false],
    ['64:ff9b::a00:1', false],
    ['8.8.8.8', true],
    ['172.32.0.1', true],
    ['93.184.216.34', true],
    ['2606:4700::1111', true],
    ['::ffff:8.8.8.8', true],
    ['not-an-ip', false],
  ])('%s is public: %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });

  it.each([
    'ftp://example.com/',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'example.com/hook',
    'http://u:p@example.com/',
  ])('refuses %s by its syntax', (url) => {
    expect(() => parseWebhookUrl(url)).toThrow(WebhookUrlError);
  });

  it.each([
    'http://127.0.0.1:8080/hook',
    'http://[::1]/hook',
    'http://[::ffff:127.0.0.1]/',
    'http://0x7f.1/',
    'http://2130706433/',
    'https://169.254.169.254/latest/meta-data',
    'http://localhost:3000/',
  ])('refuses %s unless private addresses are allowed', async (url) => {
    await expect(checkWebhookUrl(url, { allowPrivate: false })).rejects.toThrow(/not a public address/);
    await expect(checkWebhookUrl(url, { allowPrivate: true })).resolves.toEqual(new URL(url).toString());
  });

  it('accepts a public address', async () => {
    await expect(checkWebhookUrl('https://8.8.8.8/hook?x=1', { allowPrivate: false })).resolves.toBe(
      'https://8.8.8.8/hook?x=1',
    );
  });
});

describe('webhook events', () => {
  const event: MemberEvent = {
    type: 'member.threshold_reached',
    threshold: 75,
    used: 300_000,
    total: 400_000,
    continuesWithPayg: true,
    eventKey: 'acme/ada:2026-12-01:member.threshold_reached:75',
    teamId: 'acme',
    userId: 'ada',
    periodStart: Date.UTC(2026, 11, 1),
    periodEnd: Date.UTC(2027, 0, 1),
    planId: 'basic',
    currency: 'USD',
    occurredAt: Date.UTC(2026, 11, 9, 8),
  };

  it('has an id derived from its key and a body built from the decision alone', () => {
    const a = memberEventRecord(event, null);
    const b = memberEventRecord({ ...event }, 123);
    expect(a.eventId).toBe(webhookEventId(event.eventKey));
    expect(a.eventId).toMatch(/^evt_[A-Za-z0-9_-]{24}$/);
    expect(b.body).toBe(a.body);
    expect(JSON.parse(a.body)).toEqual({
      id: a.eventId,
      type: 'member.threshold_reached',
      createdAt: '2026-12-09T08:00:00.000Z',
      data: {
        teamId: 'acme',
        userId: 'ada',
        plan: 'basic',
        periodStart: '2026-12-01T00:00:00.000Z',
        periodEnd: '2027-01-01T00:00:00.000Z',
        threshold: 75,
        used: '300',
        total: '400',
        continuesWithPayg: true,
      },
    });
    expect(memberEventRecord({ ...event, eventKey: `${event.eventKey}x` }, null).eventId).not.toBe(a.eventId);
  });

  it('names the team cap in a refusal at it', () => {
    const capped = memberEventRecord(
      { ...event, type: 'member.payg_cap_reached', scope: 'team', capMinor: null } as MemberEvent,
      5_000,
    );
    expect(JSON.parse(capped.body).data).toMatchObject({ scope: 'team', cap: { amountMinor: 5_000, currency: 'USD' } });
  });
});

describe('webhook retry schedule', () => {
  it('doubles from 5 s to an hour and stops after 24 hours', () => {
    const t0 = 0;
    const delays: number[] = [];
    let now = t0;
    for (let attempt = 1; ; attempt++) {
      const next = nextAttemptAt(DEFAULT_WEBHOOK_RETRY, attempt, now, t0);
      if (next === null) break;
      delays.push(next - now);
      now = next;
    }
    expect(delays.slice(0, 5)).toEqual([5_000, 10_000, 20_000, 40_000, 80_000]);
    expect(Math.max(...delays)).toBe(3_600_000);
    expect(now).toBeLessThanOrEqual(24 * 3_600_000);
    expect(now + 3_600_000).toBeGreaterThan(24 * 3_600_000);
    expect(delays.length).toBeGreaterThan(25);
  });
});

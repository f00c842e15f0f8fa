/**
 * Webhook signatures (spec §16), for the service that signs and for receivers that check. Standalone: it needs only
 * `node:crypto`, so a receiver can copy this file as it is.
 *
 * Every delivery is a POST with the headers
 *   Webhook-Id:        the event's id (the same on every attempt; use it to drop repeats)
 *   Webhook-Timestamp: seconds since the epoch, when this attempt was sent
 *   Webhook-Signature: `v1,` + base64(HMAC-SHA256(key = the endpoint's secret as UTF-8, `${id}.${timestamp}.${body}`))
 * and the body `{ id, type, createdAt, data }`, byte for byte the same on every attempt. The header may hold several
 * space-separated signatures; one valid `v1` is enough.
 *
 * Receiving (Node, with the body as the raw bytes it arrived as, never a re-serialised object):
 *
 *   const event = verifyWebhookSignature({ secret, headers: req.headers, body: rawBody });
 *   // throws WebhookVerificationError when the signature or timestamp is wrong; event is the parsed body
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a timestamp may be from the receiver's clock (replayed or delayed requests are refused). */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

export interface WebhookEvent {
  id: string;
  type: string;
  createdAt: string;
  data: Record<string, unknown>;
}

export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`: the value of the Webhook-Signature header. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string | Buffer): string {
  const mac = createHmac('sha256', Buffer.from(secret, 'utf8'));
  mac.update(`${id}.${timestamp}.`);
  mac.update(body);
  return `v1,${mac.digest('base64')}`;
}

type HeaderBag = Record<string, string | string[] | undefined> | { get(name: string): string | null };

export interface VerifyInput {
  /** The endpoint's secret, as registered (or as the API answered once when it generated one). */
  secret: string;
  /** The request headers: Node's `req.headers` (lower-case names) or a Fetch `Headers`. */
  headers: HeaderBag;
  /** The raw body, exactly as received. */
  body: string | Buffer;
  toleranceSeconds?: number;
  /** The receiver's clock, ms since the epoch (tests). */
  now?: number;
}

/** Checks the signature and timestamp of a delivery and returns its event; throws `WebhookVerificationError`. */
export function verifyWebhookSignature(input: VerifyInput): WebhookEvent {
  const id = header(input.headers, 'webhook-id');
  const timestampText = header(input.headers, 'webhook-timestamp');
  const signatures = header(input.headers, 'webhook-signature');
  if (!id || !timestampText || !signatures) {
    throw new WebhookVerificationError('missing Webhook-Id, Webhook-Timestamp or Webhook-Signature');
  }
  if (!/^\d{1,12}$/.test(timestampText)) throw new WebhookVerificationError('Webhook-Timestamp is not a number');
  const timestamp = Number(timestampText);
  const nowSeconds = Math.floor((input.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - timestamp) > (input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) {
    throw new WebhookVerificationError('Webhook-Timestamp is too far from now');
  }
  const expected = Buffer.from(signWebhook(input.secret, id, timestamp, input.body).slice(3), 'base64');
  const valid = signatures.split(' ').some((candidate) => {
    const [version, value] = candidate.split(',', 2);
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!valid) throw new WebhookVerificationError('no valid signature');
  const event = JSON.parse(typeof input.body === 'string' ? input.body : input.body.toString('utf8')) as WebhookEvent;
  if (event.id !== id) throw new WebhookVerificationError('the body is of another event than Webhook-Id');
  return event;
}

function header(headers: HeaderBag, name: string): string | undefined {
  const value = typeof headers.get === 'function' ? headers.get(name) : (headers as Record<string, unknown>)[name];
  if (Array.isArray(value)) return value[0];
  return typeof value === 'string' ? value : undefined;
}

/**
 * One HTTP attempt of a webhook delivery: resolve and check the host (url-policy), POST the body to the address
 * that was checked, wait at most `timeoutMs` for the whole exchange, keep at most 1 KiB of the answer. Redirects
 * are not followed (a 3xx is a failed attempt): a redirect could lead anywhere the policy refuses.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { parseWebhookUrl, resolveWebhookHost, WebhookUrlError, type ResolvedAddress } from './url-policy';

export const WEBHOOK_TIMEOUT_MS = 5_000;
/** Most of an answer's body kept in the delivery log. */
export const MAX_STORED_RESPONSE_BYTES = 1024;
const USER_AGENT = 'ai-credits-webhooks/1';

export interface SendInput {
  url: string;
  body: string;
  headers: Record<string, string>;
  allowPrivate: boolean;
  timeoutMs?: number;
}

export interface SendResult {
  /** The HTTP status, when an answer came. */
  statusCode: number | null;
  /** Why there was no 2xx, in a line (refused address, DNS, connection, timeout, status). */
  error: string | null;
  /** At most 1 KiB of the answer's body. */
  responseBody: string | null;
  latencyMs: number;
}

export async function sendWebhook(input: SendInput): Promise<SendResult> {
  const started = Date.now();
  const timeoutMs = input.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const deadline = started + timeoutMs;
  const failed = (error: string, statusCode: number | null = null): SendResult => ({
    statusCode,
    error: error.slice(0, 300),
    responseBody: null,
    latencyMs: Date.now() - started,
  });
  let url: URL;
  let address: ResolvedAddress;
  try {
    url = parseWebhookUrl(input.url);
    [address] = await withDeadline(
      resolveWebhookHost(url, { allowPrivate: input.allowPrivate }),
      deadline,
      'DNS resolution timed out',
    );
  } catch (err) {
    return failed(err instanceof WebhookUrlError || err instanceof Error ? err.message : String(err));
  }
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (r: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    // Connect to the address that was checked, whatever DNS answers now; TLS still verifies the host name.
    const pinned: LookupFunction = (_host, options, callback) => {
      const cb = callback as (err: Error | null, address: unknown, family?: number) => void;
      if ((options as { all?: boolean }).all) cb(null, [{ address: address.address, family: address.family }]);
      else cb(null, address.address, address.family);
    };
    const body = Buffer.from(input.body, 'utf8');
    const req = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      lookup: pinned,
      agent: false,
      headers: {
        ...input.headers,
        'content-type': 'application/json',
        'content-length': String(body.length),
        'user-agent': USER_AGENT,
      },
    });
    const timer = setTimeout(
      () => {
        req.destroy();
        finish(failed(`no answer within ${timeoutMs / 1000} s`));
      },
      Math.max(0, deadline - Date.now()),
    );
    req.on('error', (err) => finish(failed(`request failed: ${err.message}`)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      const done = () => {
        const status = res.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        finish({
          statusCode: status,
          error: ok ? null : `answered ${status}`,
          responseBody: kept > 0 ? Buffer.concat(chunks).subarray(0, MAX_STORED_RESPONSE_BYTES).toString('utf8') : null,
          latencyMs: Date.now() - started,
        });
        res.destroy();
      };
      res.on('data', (chunk: Buffer) => {
        if (kept < MAX_STORED_RESPONSE_BYTES) {
          chunks.push(chunk);
          kept += chunk.length;
        }
        // Enough kept: the rest of a long answer is not read.
        if (kept >= MAX_STORED_RESPONSE_BYTES) done();
      });
      res.on('end', done);
      res.on('error', done);
    });
    req.end(body);
  });
}

function withDeadline<T>(p: Promise<T>, deadline: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), Math.max(0, deadline - Date.now()));
    }),
  ]).finally(() => clearTimeout(timer));
}

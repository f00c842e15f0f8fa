/**
 * An HTTP proxy on loopback that loses answers on purpose, between a client and a real API: it forwards every request
 * and records it with the API's answer, and for the requests given a fault it then drops the connection, answers 502
 * instead, or holds the answer past the client's timeout. What the API did is real; only what the client saw is not.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = 'drop' | 'bad_gateway' | { delayMs: number };

export interface Forwarded {
  method: string;
  path: string;
  /** The request body exactly as the client sent it. */
  body: string;
  /** The API's answer, whatever the client then got. */
  status: number;
  answer: string;
  retryAfter: string | null;
  fault?: Fault;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host']);

export class FaultProxy {
  readonly requests: Forwarded[] = [];
  private readonly faults: Fault[] = [];
  private readonly server = http.createServer((req, res) => {
    this.handle(req, res).catch(() => res.destroy());
  });
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly target: string) {}

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next requests meet these faults, one each, in order. */
  failNext(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  /** The requests forwarded since `from` (an earlier `requests.length`). */
  since(from: number): Forwarded[] {
    return this.requests.slice(from);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const fault = this.faults.shift();
    const headers = Object.entries(req.headers).flatMap(([name, value]) =>
      HOP_BY_HOP.has(name) || value === undefined ? [] : [[name, String(value)] as [string, string]],
    );
    const upstream = await fetch(`${this.target}${req.url}`, {
      method: req.method,
      headers,
      body: body === '' ? undefined : body,
    });
    const answer = await upstream.text();
    this.requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      body,
      status: upstream.status,
      answer,
      retryAfter: upstream.headers.get('retry-after'),
      fault,
    });
    if (fault === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault === 'bad_gateway') {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'bad_gateway', message: 'the proxy lost the answer' } }));
      return;
    }
    if (fault !== undefined) await this.sleep(fault.delayMs);
    res.on('error', () => undefined);
    const answerHeaders: Record<string, string> = {};
    upstream.headers.forEach((value, name) => {
      if (!HOP_BY_HOP.has(name)) answerHeaders[name] = value;
    });
    res.writeHead(upstream.status, answerHeaders);
    res.end(answer);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}

/**
 * A real HTTP webhook receiver on loopback for tests: it keeps every request (raw body and headers) per path and
 * answers as told: 200, a status, or not at all (it hangs until the sender gives up).
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  /** The body exactly as it arrived. */
  body: string;
  at: number;
}

/** How to answer the n-th request (1, 2, …) to a path: an HTTP status, or `hang` (never answer). */
export type Behaviour = (n: number) => number | 'hang';

export class WebhookReceiver {
  readonly received: ReceivedRequest[] = [];
  private readonly behaviours = new Map<string, Behaviour>();
  private server: http.Server | undefined;
  private url = '';

  /** Starts listening on 127.0.0.1; returns the base URL (no trailing slash). */
  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        this.received.push({
          path,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        });
        const n = this.at(path).length;
        const answer = (this.behaviours.get(path) ?? (() => 200))(n);
        if (answer === 'hang') return; // the sender's timeout ends it
        res.writeHead(answer, { 'content-type': 'text/plain' });
        res.end(answer >= 200 && answer < 300 ? 'ok' : `failing on purpose (${n})`);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** Answer requests to `path` this way (default: 200). */
  on(path: string, behaviour: Behaviour): string {
    this.behaviours.set(path, behaviour);
    return `${this.url}${path}`;
  }

  /** The requests that reached `path`, in arrival order. */
  at(path: string): ReceivedRequest[] {
    return this.received.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

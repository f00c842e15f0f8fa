import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics served at /metrics: consumptions by decision, request latency, workflow starts. */
export class Metrics {
  readonly registry = new Registry();
  readonly consumptions = new Counter({
    name: 'ai_credits_consumptions_total',
    help: 'Consumption requests answered, by decision',
    labelNames: ['decision'] as const,
    registers: [this.registry],
  });
  readonly reservations = new Counter({
    name: 'ai_credits_reservations_total',
    help: 'Reservation requests this API instance answered, by outcome: held, refused, settled, released',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  readonly workflowStarts = new Counter({
    name: 'ai_credits_member_workflow_starts_total',
    help: 'Member workflow starts requested by the API (existing runs are reused)',
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'ai_credits_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
    registers: [this.registry],
  });

  /**
   * @param reservationsExpired holds the member workflows released at expiry, all members: the workflow decides
   *   an expiry whatever became of the API that made the hold, so it is read from PostgreSQL at each scrape (one
   *   row), the same figure on every instance (aggregate it with `max`, not `sum`).
   */
  constructor(reservationsExpired?: () => Promise<number>) {
    collectDefaultMetrics({ register: this.registry });
    if (reservationsExpired) {
      new Gauge({
        name: 'ai_credits_reservations_expired',
        help: 'Reservations released at their expiry by the member workflows, all members and instances (PostgreSQL)',
        registers: [this.registry],
        async collect() {
          this.set(await reservationsExpired());
        },
      });
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.latency.observe({ method, route, status: String(status) }, seconds);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
    help: 'Reservations by what became of them: held, refused, settled, released, expired (when released after)',
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

  constructor() {
    collectDefaultMetrics({ register: this.registry });
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

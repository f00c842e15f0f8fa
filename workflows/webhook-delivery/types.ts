/** When a webhook delivery tries again: after `initialIntervalMs`, doubling up to `maximumIntervalMs`, for `giveUpAfterMs`. */
export interface WebhookRetrySchedule {
  initialIntervalMs: number;
  maximumIntervalMs: number;
  giveUpAfterMs: number;
}

/** 5 s, 10 s, 20 s, … doubling to one hour between attempts, for 24 hours (about 30 attempts). */
export const DEFAULT_WEBHOOK_RETRY: WebhookRetrySchedule = {
  initialIntervalMs: 5_000,
  maximumIntervalMs: 60 * 60_000,
  giveUpAfterMs: 24 * 60 * 60_000,
};

export interface WebhookDeliveryInput {
  deliveryId: string;
  retry: WebhookRetrySchedule;
}

export type WebhookDeliveryOutcome = 'delivered' | 'failed' | 'gone';

/** When attempt `attempt` (1, 2, …) fails at `now`, the next one is due (null: it was the last). */
export function nextAttemptAt(
  retry: WebhookRetrySchedule,
  attempt: number,
  now: number,
  firstScheduledAt: number,
): number | null {
  const delay = Math.min(retry.initialIntervalMs * 2 ** (attempt - 1), retry.maximumIntervalMs);
  const at = now + delay;
  return at > firstScheduledAt + retry.giveUpAfterMs ? null : at;
}

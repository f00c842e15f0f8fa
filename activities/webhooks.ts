import { ApplicationFailure, Context } from '@temporalio/activity';
import { sendWebhook } from '../src/webhooks/sender';
import { signWebhook } from '../src/webhooks/verify';
import {
  nextAttemptAt,
  type WebhookDeliveryInput,
  type WebhookDeliveryOutcome,
} from '../workflows/webhook-delivery/types';
import type { ActivityDeps } from './deps';

export function createWebhookActivities(deps: ActivityDeps) {
  return {
    /**
     * One attempt of a delivery: sign the event's stored body (same id and body every attempt; a fresh timestamp),
     * POST it, write the attempt into the delivery log. Anything but a 2xx fails the attempt, and Temporal retries
     * it on the delivery's schedule.
     */
    async deliverWebhook({ deliveryId, retry }: WebhookDeliveryInput): Promise<WebhookDeliveryOutcome> {
      const target = await deps.webhooks.target(deliveryId);
      if (!target) return 'gone';
      if (target.status !== 'pending') return target.status === 'delivered' ? 'delivered' : 'gone';
      const info = Context.current().info;
      const startedAt = Date.now();
      const timestamp = Math.floor(startedAt / 1000);
      const result = await sendWebhook({
        url: target.url,
        body: target.body,
        headers: {
          'webhook-id': target.eventId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(target.secret, target.eventId, timestamp, target.body),
        },
        allowPrivate: deps.webhookSettings.allowPrivate,
        timeoutMs: deps.webhookSettings.timeoutMs,
      });
      const delivered = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
      const nextRetryAt = delivered ? null : nextAttemptAt(retry, info.attempt, Date.now(), info.scheduledTimestampMs);
      await deps.webhooks.recordAttempt({
        deliveryId,
        attempt: info.attempt,
        startedAt,
        latencyMs: result.latencyMs,
        statusCode: result.statusCode,
        error: result.error,
        responseBody: result.responseBody,
        nextRetryAt,
        delivered,
      });
      if (!delivered) {
        throw ApplicationFailure.retryable(`webhook ${deliveryId}: ${result.error}`, 'WebhookNotDelivered');
      }
      return 'delivered';
    },

    /** The delivery's 24 hours are over without a 2xx. */
    async finishWebhookDelivery({ deliveryId }: { deliveryId: string }): Promise<void> {
      await deps.webhooks.markFailed(deliveryId);
    },
  };
}

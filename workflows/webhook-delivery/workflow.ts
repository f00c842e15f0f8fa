/**
 * One webhook event to one endpoint: the `deliverWebhook` activity, retried with backoff until the receiver answers
 * 2xx or 24 hours have passed (Temporal's retry policy does the waiting). Each delivery has its own workflow, so a
 * receiver that is down holds back nothing else: not the ledger, not the emails, not another endpoint, not another
 * event to the same endpoint.
 */
import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { MemberActivities } from '../../activities';
import type { WebhookDeliveryInput, WebhookDeliveryOutcome } from './types';

const { finishWebhookDelivery } = proxyActivities<MemberActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<WebhookDeliveryOutcome> {
  const { deliverWebhook } = proxyActivities<MemberActivities>({
    // One attempt: DNS and a 5 s exchange, plus writing the log.
    startToCloseTimeout: '30 seconds',
    scheduleToCloseTimeout: input.retry.giveUpAfterMs,
    retry: {
      initialInterval: input.retry.initialIntervalMs,
      backoffCoefficient: 2,
      maximumInterval: input.retry.maximumIntervalMs,
    },
  });
  try {
    return await deliverWebhook(input);
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    await finishWebhookDelivery({ deliveryId: input.deliveryId });
    return 'failed';
  }
}

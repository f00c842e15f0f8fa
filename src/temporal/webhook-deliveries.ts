/**
 * Starts the workflow of each webhook delivery (one per delivery, id derived from it): starting one that was
 * started before does nothing, so a retried writer never delivers twice. No HTTP here.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { webhookDeliveryWorkflowId } from '../../workflows/ids';
import type { WebhookRetrySchedule } from '../../workflows/webhook-delivery/types';
import { webhookDeliveryWorkflow } from '../../workflows/webhook-delivery/workflow';

export class WebhookDeliveries {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly retry: WebhookRetrySchedule,
  ) {}

  async start(deliveryIds: readonly string[]): Promise<void> {
    await Promise.all(
      deliveryIds.map(async (deliveryId) => {
        try {
          await this.client.workflow.start(webhookDeliveryWorkflow, {
            workflowId: webhookDeliveryWorkflowId(deliveryId),
            taskQueue: this.taskQueue,
            args: [{ deliveryId, retry: this.retry }],
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
          });
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        }
      }),
    );
  }
}

/** The bundler's entry: every workflow the worker runs. */
export { memberCreditsWorkflow } from './member-credits/workflow';
export { teamBillingWorkflow } from './team-billing/workflow';
export { webhookDeliveryWorkflow } from './webhook-delivery/workflow';
export { planChangeWorkflow } from './plan-change/workflow';

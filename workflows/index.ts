/** The bundler's entry: every workflow the worker runs. */
export { memberCreditsWorkflow } from './member-credits/workflow';
export { teamBillingWorkflow } from './team-billing/workflow';

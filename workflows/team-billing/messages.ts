import { defineQuery } from '@temporalio/workflow';
import type { TeamBillingView } from './types';

/** The team's billing cycle: current period and when its invoice is finalized. */
export const teamBillingQuery = defineQuery<TeamBillingView>('teamBilling');

/**
 * Members whose billing period has just ended, for the renewal measurements (`npm run bench`, `bench:renewal`,
 * `npm run soak`): each member's state at the end of the previous period (its grant and some use), its rows in the
 * ledger, and the snapshot a workflow started now carries, so that the workflow's first step is the renewal.
 */
import type { Knex } from 'knex';
import { CreditStore } from '../src/db/credit-store';
import { periodContaining, previousPeriod, type BillingPeriod } from '../workflows/domain/periods';
import { memberWorkflowId } from '../workflows/ids';
import { MemberCreditsState } from '../workflows/member-credits/state';
import type { MemberIdentity } from '../workflows/member-credits/types';
import { inPool } from './load';

export interface EndedPeriods {
  /** The period the renewal opens. */
  current: BillingPeriod;
  /** The period that ended, the one seeded. */
  previous: BillingPeriod;
  /** By workflow id: the snapshot to start each member's workflow with. */
  carried: Map<string, ReturnType<MemberCreditsState['snapshot']>>;
}

export async function seedEndedPeriods(
  db: Knex,
  members: readonly MemberIdentity[],
  options: { anchorDay: number; concurrency: number; runId: string },
): Promise<EndedPeriods> {
  const current = periodContaining(Date.now(), options.anchorDay);
  const previous = previousPeriod(current, options.anchorDay);
  const records = new CreditStore(db);
  const carried: EndedPeriods['carried'] = new Map();
  await inPool([...members], options.concurrency, async (m) => {
    const workflowId = memberWorkflowId(m.teamId, m.userId);
    const state = MemberCreditsState.open(m, previous.start, options.runId, { paygEnabled: true });
    state.consume(
      { requestId: 'seed-1', action: 'chat', millicredits: 150_000, holder: options.runId },
      previous.start + 60_000,
    );
    for (let next = state.nextRecords(100); next; next = state.nextRecords(100)) {
      await records.writeRecords(next.batch, { workflowId, runId: options.runId });
      state.recordsStored(next.throughSeq);
    }
    const snapshot = state.snapshot();
    // A lease out at the period end would be taken back first, an activity these measurements do not mean to time.
    if (snapshot.leases.length > 0) throw new Error(`the seeded state of ${workflowId} holds a lease`);
    carried.set(workflowId, snapshot);
  });
  return { current, previous, carried };
}

/**
 * The ledger's unique keys as the backstop against doubling (PostgreSQL, no Temporal): a row written again under
 * its key, by a retry or by another run, changes neither the row nor the usage row; a request id claimed again keeps
 * its first fingerprint. Each test fails if `onConflict(…).ignore()` becomes `merge()` in `src/db/credit-store.ts`.
 */
import { CreditStore } from '../../src/db/credit-store';
import { LedgerStore } from '../../src/db/ledger-store';
import type { LedgerEntry, RecordBatch } from '../../workflows/member-credits/types';
import { createHarness, seedTeam, type Harness } from '../support/harness';

let h: Harness;
let store: CreditStore;
let ledger: LedgerStore;
beforeAll(async () => {
  h = await createHarness();
  store = new CreditStore(h.db);
  ledger = new LedgerStore(h.db);
});
afterAll(() => h?.close());

const period = { periodStart: Date.UTC(2026, 0, 1), periodEnd: Date.UTC(2026, 1, 1) };

function batchOf(teamId: string, entries: Omit<LedgerEntry, 'teamId' | 'userId' | 'periodStart' | 'periodEnd'>[]) {
  const batch: RecordBatch = {
    entries: entries.map((e) => ({ ...e, teamId, userId: 'lw', ...period })),
    answers: [],
    leases: [],
    headers: [],
  };
  return batch;
}

describe('ledger writer (credit-store writeRecords)', () => {
  it('a row written again under its key keeps the first write and moves the usage row once', async () => {
    const teamId = await seedTeam(h, { members: [{ userId: 'lw' }] });
    const key = (kind: string, id: string) => `${teamId}/lw:2026-01-01:${kind}:${id}`;
    const first = batchOf(teamId, [
      { entryKey: key('grant', 'run-1'), kind: 'grant', millicredits: 100_000, occurredAt: period.periodStart },
      {
        entryKey: key('consume', 'req-1'),
        kind: 'consume',
        millicredits: 2_500,
        requestId: 'req-1',
        action: 'chat',
        occurredAt: period.periodStart + 1_000,
      },
    ]);
    await store.writeRecords(first, { workflowId: 'wf', runId: 'run-1' });
    // The activity retried (the same batch), then a later run wrote the same keys with other figures.
    await store.writeRecords(first, { workflowId: 'wf', runId: 'run-1' });
    const clash = batchOf(teamId, [
      { entryKey: key('grant', 'run-1'), kind: 'grant', millicredits: 999_000, occurredAt: period.periodStart + 5 },
      {
        entryKey: key('consume', 'req-1'),
        kind: 'consume',
        millicredits: 7_000,
        requestId: 'req-1',
        action: 'write_tests',
        occurredAt: period.periodStart + 9_000,
      },
    ]);
    await store.writeRecords(clash, { workflowId: 'wf', runId: 'run-2' });

    const rows = await ledger.list({ teamId, userId: 'lw' });
    expect(rows.map((r) => [r.kind, r.millicredits, r.action ?? null, r.runId, r.occurredAt])).toEqual([
      ['grant', 100_000, null, 'run-1', period.periodStart],
      ['consume', 2_500, 'chat', 'run-1', period.periodStart + 1_000],
    ]);
    expect(await store.usage(teamId, 'lw', period.periodStart)).toMatchObject({
      balance: { allowance: 100_000, used: 2_500 },
    });

    // A new key in the same batch as a repeated one: only the new row counts.
    await store.writeRecords(
      batchOf(teamId, [
        ...first.entries,
        {
          entryKey: key('consume', 'req-2'),
          kind: 'consume',
          millicredits: 1_000,
          requestId: 'req-2',
          action: 'chat',
          occurredAt: period.periodStart + 2_000,
        },
      ]),
      { workflowId: 'wf', runId: 'run-2' },
    );
    expect(await store.usage(teamId, 'lw', period.periodStart)).toMatchObject({
      balance: { allowance: 100_000, used: 3_500 },
    });
    expect(await ledger.list({ teamId, userId: 'lw' })).toHaveLength(3);
  });

  it('a request id claimed again keeps its first fingerprint and comes back as seen', async () => {
    const teamId = await seedTeam(h, { members: [{ userId: 'lw' }] });
    const ref = { teamId, userId: 'lw', kind: 'consume' as const, requestId: 'claim-1' };
    expect(await store.claim({ ...ref, fingerprint: 'chat:1000' })).toBeUndefined();
    expect(await store.claim({ ...ref, fingerprint: 'chat:9000' })).toEqual({
      status: 'pending',
      fingerprint: 'chat:1000',
    });
    expect(await store.answer(ref)).toEqual({ status: 'pending', fingerprint: 'chat:1000' });
  });
});

/**
 * The ledger write-through (dev server, real PostgreSQL): the API's CreditsService writes an allowed consumption's
 * rows as soon as the Update answers and tells the workflow on the member's next consumption, so steady traffic
 * costs the workflow no ledger activity; whatever nobody wrote through, the workflow writes after its backstop.
 */
import { temporal } from '@temporalio/proto';
import { LedgerStore } from '../../src/db/ledger-store';
import type { CreditsService } from '../../src/temporal/credits-service';
import { memberWorkflowId } from '../../workflows/ids';
import { consumeCreditsUpdate, creditStateQuery } from '../../workflows/member-credits/messages';
import { createHarness, creditsService, eventually, seedTeam, type Harness } from '../support/harness';

const EventType = temporal.api.enums.v1.EventType;
const BACKSTOP_MS = 4_000;

let h: Harness;
let ledger: LedgerStore;
beforeAll(async () => {
  h = await createHarness();
  ledger = new LedgerStore(h.db);
});
afterAll(() => h?.close());

const memberHandle = (teamId: string, userId: string) => h.client.workflow.getHandle(memberWorkflowId(teamId, userId));
type MemberHandle = ReturnType<typeof memberHandle>;

/** Until the member's workflow reports an empty ledger outbox. */
const outboxWritten = (handle: MemberHandle, timeoutMs?: number, what?: string) =>
  eventually(
    async () => ((await handle.query(creditStateQuery)).pendingLedgerWrites === 0 ? true : undefined),
    timeoutMs,
    what,
  );

/** The member's workflow, started and with its grant written. */
async function startedMember(credits: CreditsService, teamId: string, userId: string): Promise<MemberHandle> {
  await credits.ensureStarted(teamId, userId);
  const handle = memberHandle(teamId, userId);
  await outboxWritten(handle);
  return handle;
}

async function eventsOf(teamId: string, userId: string) {
  return (await memberHandle(teamId, userId).fetchHistory()).events ?? [];
}
const count = (events: { eventType?: unknown }[], type: number) => events.filter((e) => e.eventType === type).length;

it('writes each row before the answer, and acknowledged rows cost the workflow no activity', async () => {
  const teamId = await seedTeam(h, { members: [{ userId: 'wes' }] });
  await h.withWorker(async (tq) => {
    const credits = creditsService(h, tq, { ledgerBackstopMs: BACKSTOP_MS });
    const handle = await startedMember(credits, teamId, 'wes');
    const mark = (await eventsOf(teamId, 'wes')).length;

    for (let i = 1; i <= 10; i++) {
      const answer = await credits.consume(teamId, 'wes', { requestId: `w${i}`, action: 'chat', millicredits: 1_500 });
      expect(answer.decision).toBe('allowed');
      expect(answer).not.toHaveProperty('writeThrough');
      const rows = (await ledger.list({ teamId, userId: 'wes' })).filter((r) => r.requestId === `w${i}`);
      expect(rows.map((r) => `${r.kind}:${r.millicredits}:${r.writtenBy}`)).toEqual(['consume:1500:api']);
    }
    const during = (await eventsOf(teamId, 'wes')).slice(mark);
    expect(count(during, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)).toBe(10);
    expect(count(during, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toBe(0);
    // Nine were acknowledged by the next consumption; the last waits for the backstop.
    expect((await handle.query(creditStateQuery)).pendingLedgerWrites).toBe(1);

    await outboxWritten(handle, BACKSTOP_MS + 15_000, 'the backstop to write the last, unacknowledged row');
    const after = (await eventsOf(teamId, 'wes')).slice(mark);
    expect(count(after, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toBe(1);
    expect(count(after, EventType.EVENT_TYPE_TIMER_STARTED)).toBeGreaterThanOrEqual(1);

    const rows = await ledger.list({ teamId, userId: 'wes' });
    expect(rows.map((r) => `${r.kind}:${r.requestId ?? ''}`)).toEqual([
      'grant:',
      ...Array.from({ length: 10 }, (_, i) => `consume:w${i + 1}`),
    ]);
    const { runId } = await handle.describe();
    expect(new Set(rows.map((r) => r.runId))).toEqual(new Set([runId]));
  });
});

it('writes the grant ahead of a new member’s first consumption, in that order', async () => {
  const teamId = await seedTeam(h, { members: [{ userId: 'new' }] });
  await h.withWorker(async (tq) => {
    const credits = creditsService(h, tq, { ledgerBackstopMs: BACKSTOP_MS });
    // No workflow yet: update-with-start opens the period (grant) and decides the consumption in one task.
    await credits.consume(teamId, 'new', { requestId: 'first', action: 'chat', millicredits: 2_000 });
    const rows = await ledger.list({ teamId, userId: 'new' });
    expect(rows.map((r) => `${r.kind}:${r.millicredits}`)).toEqual(['grant:400000', 'consume:2000']);
  });
});

it('writes rows nobody wrote through after the backstop delay, once', async () => {
  const teamId = await seedTeam(h, { members: [{ userId: 'raw' }] });
  await h.withWorker(async (tq) => {
    const credits = creditsService(h, tq, { ledgerBackstopMs: BACKSTOP_MS });
    const handle = await startedMember(credits, teamId, 'raw');

    // Straight to the workflow, as a caller without write-through (or an API that died after the answer) would.
    const answered = Date.now();
    const answer = await handle.executeUpdate(consumeCreditsUpdate, {
      args: [{ requestId: 'raw-1', action: 'chat', millicredits: 3_000 }],
    });
    expect(answer.writeThrough?.entries.map((e) => e.kind)).toEqual(['consume']);
    expect((await ledger.list({ teamId, userId: 'raw' })).filter((r) => r.requestId === 'raw-1')).toHaveLength(0);

    const rows = await eventually(
      async () => {
        const found = (await ledger.list({ teamId, userId: 'raw' })).filter((r) => r.requestId === 'raw-1');
        return found.length > 0 ? found : undefined;
      },
      BACKSTOP_MS + 15_000,
      'the backstop to write raw-1',
    );
    expect(Date.now() - answered).toBeGreaterThanOrEqual(BACKSTOP_MS - 500);
    expect(rows.map((r) => `${r.kind}:${r.millicredits}:${r.writtenBy}`)).toEqual(['consume:3000:workflow']);
    await outboxWritten(handle);
    expect((await ledger.list({ teamId, userId: 'raw' })).filter((r) => r.requestId === 'raw-1')).toHaveLength(1);
  });
});

it('acknowledges nothing it could not write: a failing or hanging insert leaves the rows to the backstop', async () => {
  const teamId = await seedTeam(h, { members: [{ userId: 'pgf' }, { userId: 'pgh' }] });
  await h.withWorker(async (tq) => {
    // PostgreSQL refusing the write-through (the workflow's own writes go through the worker, unaffected).
    const failing = Object.assign(Object.create(LedgerStore.prototype) as LedgerStore, {
      append: () => Promise.reject(new Error('connection refused')),
    });
    const errors: unknown[] = [];
    const credits = creditsService(h, tq, {
      ledger: failing,
      ledgerBackstopMs: BACKSTOP_MS,
      onWriteThroughError: (err) => errors.push(err),
    });
    const handle = await startedMember(credits, teamId, 'pgf');
    for (const id of ['f1', 'f2', 'f3']) {
      const answer = await credits.consume(teamId, 'pgf', { requestId: id, action: 'chat', millicredits: 1_000 });
      expect(answer.decision).toBe('allowed');
    }
    expect(errors).toHaveLength(1); // then the write-through pauses instead of failing every answer
    expect(credits.acks.size).toBe(0);
    expect((await handle.query(creditStateQuery)).pendingLedgerWrites).toBe(3);
    const rows = await eventually(
      async () => {
        const found = (await ledger.list({ teamId, userId: 'pgf' })).filter((r) => r.kind === 'consume');
        return found.length === 3 ? found : undefined;
      },
      BACKSTOP_MS + 15_000,
      'the backstop to write f1–f3',
    );
    expect(rows.map((r) => `${r.requestId}:${r.writtenBy}`)).toEqual(['f1:workflow', 'f2:workflow', 'f3:workflow']);

    // PostgreSQL hanging: the answer waits at most a second, and nothing is acknowledged.
    const hanging = Object.assign(Object.create(LedgerStore.prototype) as LedgerStore, {
      append: () => new Promise<number>(() => undefined),
    });
    const slow = creditsService(h, tq, { ledger: hanging, ledgerBackstopMs: BACKSTOP_MS });
    await slow.ensureStarted(teamId, 'pgh');
    const started = Date.now();
    await slow.consume(teamId, 'pgh', { requestId: 'h1', action: 'chat', millicredits: 1_000 });
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(waited).toBeLessThan(5_000);
    const again = Date.now();
    await slow.consume(teamId, 'pgh', { requestId: 'h2', action: 'chat', millicredits: 1_000 });
    expect(Date.now() - again).toBeLessThan(900); // paused: no second wait
    expect(slow.acks.size).toBe(0);
    await eventually(
      async () =>
        (await ledger.list({ teamId, userId: 'pgh' })).filter((r) => r.kind === 'consume').length === 2
          ? true
          : undefined,
      BACKSTOP_MS + 15_000,
      'the backstop to write h1 and h2',
    );
  });
});

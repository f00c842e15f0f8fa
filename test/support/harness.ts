/**
 * Integration-test plumbing: the real PostgreSQL, Temporal and SMTP listener started by `npm test`
 * (tools/test.ts passes their addresses in the environment), one workflow bundle per test file, and
 * a worker per test on its own task queue.
 */
import { randomUUID } from 'node:crypto';
import { Client, type Connection } from '@temporalio/client';
import {
  bundleWorkflowCode,
  DefaultLogger,
  type NativeConnection,
  Runtime,
  type Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Knex } from 'knex';
import { TeamStore, type Role } from '../../src/db/team-store';
import { createDb } from '../../src/db/knex';
import { MailCatcher } from '../../tools/mail-catcher';
import { createSmtpMailer } from '../../src/mailer';
import { PlanCatalogue } from '../../src/plans';
import { memberCredits } from '../../src/api/server';
import type { MemberCredits } from '../../src/credits/member-credits';
import { createWorker, WORKFLOWS_PATH } from '../../src/worker';
import { connectClient, connectWorker, temporalSettings } from '../../src/temporal/connection';
import type { WebhookSettings } from '../../src/config';

/**
 * Webhooks in tests: receivers on loopback are allowed (`WEBHOOK_ALLOW_PRIVATE=1`), and retries come fast (from
 * 200 ms, doubling to 1 s), so a receiver that fails three times is retried within seconds.
 */
export const TEST_WEBHOOKS: WebhookSettings = {
  allowPrivate: true,
  timeoutMs: 5_000,
  retry: { initialIntervalMs: 200, maximumIntervalMs: 1_000, giveUpAfterMs: 24 * 60 * 60_000 },
};

export function env(name: 'DATABASE_URL' | 'TEMPORAL_ADDRESS' | 'TEMPORAL_TEST_SERVER'): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: run the integration tests through \`npm test\`, which starts the servers`);
  return value;
}

let quietRuntime = false;
/** Keep the SDK to errors (call before anything creates the Runtime: connections, workers, environments). */
export function quiet(): void {
  if (quietRuntime) return;
  quietRuntime = true;
  try {
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
    });
  } catch {
    // Already installed by an earlier caller in this process.
  }
}

let bundle: Promise<WorkerOptions['workflowBundle']> | undefined;
export function workflowBundle(): Promise<WorkerOptions['workflowBundle']> {
  quiet();
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('ERROR') });
  return bundle;
}

/** The API's member credits (lease holder, Temporal client, PostgreSQL) on a test's task queue. */
export function credits(h: Pick<Harness, 'client' | 'plans' | 'db'>, taskQueue: string): MemberCredits {
  return memberCredits({ db: h.db, client: h.client, taskQueue, plans: h.plans });
}

export const uid = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

export interface Harness {
  db: Knex;
  teams: TeamStore;
  plans: PlanCatalogue;
  mail: MailCatcher;
  smtpUrl: string;
  client: Client;
  connection: Connection;
  nativeConnection: NativeConnection;
  namespace: string;
  /** Runs `fn` while a worker polls a fresh task queue; the worker stops afterwards. */
  withWorker<T>(
    fn: (taskQueue: string, worker: Worker) => Promise<T>,
    options?: Partial<WorkerOptions>,
    webhooks?: WebhookSettings,
  ): Promise<T>;
  close(): Promise<void>;
}

/** Connects to the dev server of `npm test` (or to the given connections, e.g. a time-skipping environment). */
export async function createHarness(given?: {
  client: Client;
  nativeConnection: NativeConnection;
  namespace?: string;
}): Promise<Harness> {
  quiet();
  const db = createDb(env('DATABASE_URL'));
  const mail = new MailCatcher();
  const smtpUrl = await mail.start(0);
  const mailer = createSmtpMailer(smtpUrl);
  const plans = PlanCatalogue.load();
  // TEMPORAL_ADDRESS with its TLS settings, as the worker and the API read them (src/temporal/connection.ts).
  const settings = given ? undefined : temporalSettings();
  const address = settings ? env('TEMPORAL_ADDRESS') : '';
  const connection = given ? (given.client.connection as Connection) : await connectClient(settings!, address);
  const nativeConnection = given ? given.nativeConnection : await connectWorker(settings!, address);
  const namespace = given?.namespace ?? 'default';
  const client = given ? given.client : new Client({ connection, namespace });
  // Bundled on the first worker only: a file that starts none must not leave webpack running after its last test.
  let workflowBundleReady: ReturnType<typeof workflowBundle> | undefined;
  return {
    db,
    teams: new TeamStore(db),
    plans,
    mail,
    smtpUrl,
    client,
    connection,
    nativeConnection,
    namespace,
    async withWorker(fn, options, webhooks = TEST_WEBHOOKS) {
      const taskQueue = uid('tq');
      const worker = await createWorker({
        connection: nativeConnection,
        namespace,
        taskQueue,
        db,
        mailer,
        plans,
        webhooks,
        workflowBundle: await (workflowBundleReady ??= workflowBundle()),
        options,
      });
      return worker.runUntil(fn(taskQueue, worker));
    },
    async close() {
      mailer.close();
      await mail.stop();
      if (!given) {
        await connection.close();
        await nativeConnection.close();
      }
      await db.destroy();
    },
  };
}

/** A harness on a fresh time-skipping test server (the Java binary `npm test` prepared); `close` tears both down. */
/**
 * The SDK gives the test server 5 s to answer; a JVM on a busy 2-core machine can take longer. A start that timed
 * out is tried again (a fresh port each time) rather than failing the test file.
 */
async function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: { type: 'existing-path', path: env('TEMPORAL_TEST_SERVER') } },
      });
    } catch (err) {
      if (attempt >= 4 || !/did not start within/.test(String(err))) throw err;
    }
  }
}

export async function createTimeSkippingHarness(): Promise<{
  h: Harness;
  testEnv: TestWorkflowEnvironment;
  close(): Promise<void>;
}> {
  quiet();
  const testEnv = await startTimeSkippingServer();
  const h = await createHarness({
    client: testEnv.client,
    nativeConnection: testEnv.nativeConnection,
    namespace: testEnv.namespace,
  });
  return {
    h,
    testEnv,
    async close() {
      await h.close();
      await testEnv.teardown();
    },
  };
}

/**
 * How far past a billing date a time-skipping test sleeps before it looks at the renewal: more than a workflow
 * task's timeout (10 s), so that the whole renewal, the run's continue-as-new included, happens inside
 * `testEnv.sleep`, while the test sends the member workflow nothing. Two things make a smaller margin hang a test:
 * - The period timer fires after the billing date by as long as the workflow task that started it took (its
 *   duration is reckoned from the task's start and runs from the task's completion, and time does not skip while
 *   a task is out): over a second for a run's first task on a busy machine, never more than the task's timeout.
 *   With a second's margin the sleep could end first, and the renewal then ran while the test polled.
 * - The Java test server (temporal-test-server 1.38.0) loses a query that reaches it while the workflow task that
 *   continues as new is running: the query's buffered request makes `completeWorkflowTask` schedule one more
 *   workflow task on the run it has just continued as new (its `completed` leaves out CONTINUED_AS_NEW), which
 *   throws NOT_FOUND once the new run is started. The old run's completion is dropped, and with it the release of
 *   the time-skipping lock its workflow task held: the query never answers and time never skips again (the next
 *   `testEnv.sleep` hangs). The one-activity renewal makes this likely: it writes the closed period to PostgreSQL
 *   before the run continues as new, so a test that waits for those rows then queries the workflow right in that
 *   task (before it, the next run wrote them). Any query during that task does it, with either renewal.
 */
export const PAST_BILLING_DATE_MS = 60_000;

/**
 * Skips time to `PAST_BILLING_DATE_MS` after `billingDate`: the renewal is over when this returns (unless one of its
 * activities failed and waits for a retry: time skips through a retry's backoff).
 */
export async function skipPastBillingDate(testEnv: TestWorkflowEnvironment, billingDate: number): Promise<void> {
  await testEnv.sleep(billingDate + PAST_BILLING_DATE_MS - (await testEnv.currentTimeMs()));
}

export interface SeedMember {
  userId: string;
  roles?: Role[];
  email?: string;
}

/** A team with members, written straight to PostgreSQL. */
export async function seedTeam(
  h: Harness,
  opts: { plan?: string; anchorDay?: number; paygThresholdMinor?: number | null; members: SeedMember[] },
): Promise<string> {
  const teamId = uid('team');
  await h.teams.createTeam({
    teamId,
    plan: opts.plan ?? 'basic',
    billingAnchorDay: opts.anchorDay ?? 1,
    paygThresholdMinor: opts.paygThresholdMinor ?? null,
    currency: 'USD',
  });
  for (const m of opts.members) {
    await h.teams.upsertMember({
      teamId,
      userId: m.userId,
      email: m.email ?? `${m.userId}@${teamId}.example`,
      roles: m.roles ?? ['member'],
    });
  }
  return teamId;
}

/** Polls until `check` returns a value (not undefined) or the time runs out. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > until)
      throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

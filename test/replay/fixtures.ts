/**
 * The committed workflow histories in test/fixtures/histories/: one JSON file per workflow run, named
 * `<scenario>.run<n>.json` (n counts the runs of one workflow id, 1 = the run that started it), in the JSON
 * format of `temporal workflow show --output json` (what `historyFromJSON` of @temporalio/common reads).
 * Written by record.test.ts, replayed by replay.test.ts and determinism.test.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

export type History = proto.temporal.api.history.v1.IHistory;
export type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

export const HISTORIES_DIR = path.resolve(__dirname, '..', 'fixtures', 'histories');
/** Histories of an earlier workflow version, kept while runs of it may still be open: `previous/<label>/`. */
export const PREVIOUS_DIR = path.join(HISTORIES_DIR, 'previous');

/** The recorded scenarios (file name prefixes). */
export const SCENARIOS = {
  /** (a) Member renewal over several billing periods, continue-as-new at each period end (time-skipping). */
  renewal: 'member-renewal',
  /**
   * (b) 75 % / 100 % / exceeded, PAYG on, PAYG consumption, PAYG off → refused (paused), a purchase (resumed), a
   * plan upgrade (dev server).
   */
  payg: 'member-payg',
  /** (c) Continue-as-new inside a period because Temporal suggested it (dev server, 300 events). */
  suggestedContinueAsNew: 'member-suggested-can',
  /** (d) Member removal: the period closes early and the workflow completes (dev server). */
  removal: 'member-removal',
  /** (e) Team billing: invoice finalized one grace window after each billing date (time-skipping). */
  teamBilling: 'team-billing',
  /** (f) A webhook delivery that fails twice, then is delivered (dev server). */
  webhookDelivered: 'webhook-delivered',
  /** (g) A webhook delivery that gives up at the end of its schedule (dev server, a schedule of a second). */
  webhookGaveUp: 'webhook-gave-up',
  /** (h) A plan upgrade carried to the team's members (dev server). */
  planChange: 'plan-change',
} as const;

/*
 * The JSON codec. `historyFromJSON` / `historyToJSON` of @temporalio/common 1.24.0 throw "type must be a Type"
 * in this install: @temporalio/common, @temporalio/proto and @temporalio/worker each carry their own copy of
 * protobufjs 8 (the top-level one is 7, for @grpc/proto-loader), and protobufjs' protojson checks
 * `instanceof Type` against its own copy. So the same conversion is done here with the protojson of the copy
 * that @temporalio/proto uses (the same calls and options as the SDK's helpers, so the files are what
 * `historyToJSON` writes and `historyFromJSON` reads).
 */
interface ProtoJson {
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): History | null;
  toJson(type: unknown, message: unknown): unknown;
}
const protojsonPath = require.resolve('protobufjs/ext/protojson', {
  paths: [path.dirname(require.resolve('@temporalio/proto/package.json'))],
});
// A plain require (not createRequire), so that under jest it is the same module instance @temporalio/proto uses.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const protojson = require(protojsonPath) as ProtoJson;
const historyType = (
  patchProtobufRoot(proto) as unknown as { lookupType(name: string): { fromObject(o: unknown): unknown } }
).lookupType('temporal.api.history.v1.History');

/** A history as proto3 JSON text (what `temporal workflow show --output json` prints). */
export function historyToJson(history: History): string {
  return JSON.stringify(protojson.toJson(historyType, historyType.fromObject(history)), null, 2);
}

/** A history from proto3 JSON (event ids become Longs, as `Worker.runReplayHistories` expects). */
export function historyFromJson(json: unknown): History {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as History).events)) {
    throw new TypeError('not a history: expected an object with an array of events');
  }
  const history = protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
  if (!history) throw new TypeError('not a history');
  return history;
}

export const fixtureName = (scenario: string, run: number) => `${scenario}.run${run}.json`;

export interface Fixture {
  file: string;
  scenario: string;
  run: number;
  history: History;
}

/** Every fixture in the directory, parsed, ordered by scenario and run. */
export function loadFixtures(dir = HISTORIES_DIR): Fixture[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((file) => {
      const match = /^(.+)\.run(\d+)\.json$/.exec(file);
      if (!match) throw new Error(`${file}: fixture names are <scenario>.run<n>.json`);
      const history = historyFromJson(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
      return { file, scenario: match[1], run: Number(match[2]), history };
    })
    .sort((a, b) => a.scenario.localeCompare(b.scenario) || a.run - b.run);
}

/** The event's type without prefix, e.g. `WORKFLOW_EXECUTION_STARTED`. */
export function eventType(event: HistoryEvent): string {
  const name = proto.temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? String(event.eventType);
  return name.replace(/^EVENT_TYPE_/, '');
}

/** The kept histories of earlier versions (`previous/<label>/<scenario>.run<n>.json`), file names with their path. */
export function loadPreviousFixtures(): Fixture[] {
  if (!existsSync(PREVIOUS_DIR)) return [];
  return readdirSync(PREVIOUS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((d) =>
      loadFixtures(path.join(PREVIOUS_DIR, d.name)).map((f) => ({ ...f, file: `previous/${d.name}/${f.file}` })),
    );
}

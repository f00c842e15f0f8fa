/**
 * The webhook events (spec §16) and the bodies their deliveries send: `{ id, type, createdAt, data }`. A body is
 * built once, when its event is first stored, and every attempt sends those very bytes. Credits are decimal
 * strings and money `{ amountMinor, currency }`, as in the API.
 */
import { createHash } from 'node:crypto';
import { formatCredits } from '../../workflows/domain/credits';
import type { MemberEvent } from '../../workflows/member-credits/types';

export const WEBHOOK_EVENT_TYPES = [
  'member.threshold_reached',
  'member.payg_started',
  'member.paused',
  'member.resumed',
  'member.payg_cap_reached',
  'team.payg_threshold_exceeded',
  'invoice.finalized',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** An event as stored: its key makes it once, its id is public, its body is what every attempt sends. */
export interface WebhookEventRecord {
  eventKey: string;
  eventId: string;
  teamId: string;
  type: WebhookEventType;
  createdAt: number;
  body: string;
}

/** The public id of the event with this key: the same whoever stores it, however often. */
export function webhookEventId(eventKey: string): string {
  return `evt_${createHash('sha256').update(eventKey).digest('base64url').slice(0, 24)}`;
}

const iso = (ms: number) => new Date(ms).toISOString();
const money = (amountMinor: number, currency: string) => ({ amountMinor, currency });

function record(
  eventKey: string,
  teamId: string,
  type: WebhookEventType,
  createdAt: number,
  data: Record<string, unknown>,
): WebhookEventRecord {
  const eventId = webhookEventId(eventKey);
  const body = JSON.stringify({ id: eventId, type, createdAt: iso(createdAt), data });
  return { eventKey, eventId, teamId, type, createdAt, body };
}

/** A member event the workflow decided. `teamCapMinor`: the team's cap, for a refusal at it. */
export function memberEventRecord(e: MemberEvent, teamCapMinor: number | null): WebhookEventRecord {
  const base = {
    teamId: e.teamId,
    userId: e.userId,
    plan: e.planId,
    periodStart: iso(e.periodStart),
    periodEnd: iso(e.periodEnd),
  };
  let data: Record<string, unknown>;
  switch (e.type) {
    case 'member.threshold_reached':
      data = {
        ...base,
        threshold: e.threshold,
        used: formatCredits(e.used),
        total: formatCredits(e.total),
        continuesWithPayg: e.continuesWithPayg,
      };
      break;
    case 'member.payg_started':
      data = { ...base, rateMicrosPerCredit: e.rateMicrosPerCredit, currency: e.currency };
      break;
    case 'member.paused':
    case 'member.resumed':
      data = { ...base, reason: e.reason };
      break;
    case 'member.payg_cap_reached': {
      const cap = e.scope === 'member' ? e.capMinor : teamCapMinor;
      data = { ...base, scope: e.scope, cap: cap === null ? null : money(cap, e.currency) };
      break;
    }
  }
  return record(e.eventKey, e.teamId, e.type, e.occurredAt, data);
}

/** The team's PAYG charges of a period passed its threshold (once per team and period). */
export function teamThresholdEventRecord(e: {
  teamId: string;
  periodStart: number;
  periodEnd: number;
  chargesMinor: number;
  thresholdMinor: number;
  currency: string;
  at: number;
}): WebhookEventRecord {
  return record(
    `${e.teamId}:${iso(e.periodStart)}:team.payg_threshold_exceeded`,
    e.teamId,
    'team.payg_threshold_exceeded',
    e.at,
    {
      teamId: e.teamId,
      periodStart: iso(e.periodStart),
      periodEnd: iso(e.periodEnd),
      paygCharges: money(e.chargesMinor, e.currency),
      threshold: money(e.thresholdMinor, e.currency),
    },
  );
}

/** A team's invoice was finalized (its lines are final; read it with GET …/invoices/{invoiceId}). */
export function invoiceFinalizedEventRecord(i: {
  teamId: string;
  invoiceId: string;
  sequence: number;
  totalMinor: number;
  currency: string;
  finalizedAt: number;
}): WebhookEventRecord {
  return record(`${i.teamId}:invoice:${i.invoiceId}:finalized`, i.teamId, 'invoice.finalized', i.finalizedAt, {
    teamId: i.teamId,
    invoiceId: i.invoiceId,
    sequence: i.sequence,
    total: money(i.totalMinor, i.currency),
    finalizedAt: iso(i.finalizedAt),
  });
}

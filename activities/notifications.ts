import { ApplicationFailure } from '@temporalio/common';
import { formatCredits } from '../workflows/domain/credits';
import { formatMoney } from '../workflows/domain/money';
import { teamThresholdEventRecord } from '../src/webhooks/events';
import type { MemberNotification } from '../workflows/member-credits/types';
import type { OutgoingEmail } from '../src/db/notification-store';
import type { ActivityDeps } from './deps';

export interface SendMemberNotificationsInput {
  notifications: MemberNotification[];
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const ALERT_ONLY = new Set<MemberNotification['kind']>(['member_paused', 'member_resumed', 'member_team_payg_cap']);

const RESUMED_BECAUSE: Record<string, string> = {
  payg_enabled: 'pay-as-you-go was turned on',
  credits_purchased: 'credits were bought for you',
  period_renewed: 'your credits renewed',
  plan_upgraded: "your team's plan was upgraded",
  credits_released: 'held credits were given back',
};

/**
 * Alerts and emails are keyed by member, period and kind, so a retried activity stores and sends each once.
 * SMTP itself is at-least-once: a crash between the send and `markSent` resends that one email, with the same
 * Message-ID.
 */
export function createNotificationActivities(deps: ActivityDeps) {
  return {
    /** Deliver queued emails by key (each once: claimed, sent, marked). */
    async deliverEmails({ keys }: { keys: string[] }): Promise<{ emails: number }> {
      return { emails: await deliver(deps, keys) };
    },

    async sendMemberNotifications({ notifications }: SendMemberNotificationsInput): Promise<{ emails: number }> {
      const keys: string[] = [];
      for (const n of notifications) {
        const member = await deps.teams.getMember(n.teamId, n.userId);
        const text = memberMessage(n);
        await deps.notifications.addAlert({
          alertKey: n.notificationKey,
          teamId: n.teamId,
          userId: n.userId,
          kind: n.kind,
          message: text,
        });
        const emails: OutgoingEmail[] = [];
        // Pausing, resuming and the team's cap are in-product alerts only (Billing gets the team cap's one email).
        if (member && !ALERT_ONLY.has(n.kind)) {
          emails.push({
            emailKey: `${n.notificationKey}:member`,
            teamId: n.teamId,
            kind: n.kind,
            to: member.email,
            subject: memberSubject(n),
            body: text,
          });
        }
        if (n.kind === 'member_75' || n.kind === 'member_exceeded') {
          for (const admin of await deps.teams.contacts(n.teamId, ['admin', 'billing'])) {
            emails.push({
              emailKey: `${n.notificationKey}:admin:${admin.userId}`,
              teamId: n.teamId,
              kind: n.kind === 'member_75' ? 'admin_member_75' : 'admin_member_payg',
              to: admin.email,
              subject:
                n.kind === 'member_75'
                  ? `${n.userId} has used 75% of their AI credits`
                  : `${n.userId} has moved to pay-as-you-go`,
              body:
                n.kind === 'member_75'
                  ? `${n.userId} has spent ${formatCredits(n.usedMillicredits)} of ${formatCredits(n.totalMillicredits)} AI credits for the period that renews on ${day(n.periodEnd)}.`
                  : `${n.userId} has used all included AI credits and now continues with pay-as-you-go; the charges appear on the team's next invoice.`,
            });
          }
        }
        if (n.kind === 'member_payg_cap') {
          for (const billing of await deps.teams.contacts(n.teamId, ['billing'])) {
            emails.push({
              emailKey: `${n.notificationKey}:billing:${billing.userId}`,
              teamId: n.teamId,
              kind: 'billing_member_payg_cap',
              to: billing.email,
              subject: `${n.userId} reached their monthly pay-as-you-go cap`,
              body: `${n.userId}'s pay-as-you-go AI credit charges for the period that renews on ${day(n.periodEnd)} reached the monthly cap you set; further pay-as-you-go use is refused until then, or until you raise the cap.`,
            });
          }
        }
        for (const e of emails) {
          await deps.notifications.enqueueEmail(e);
          keys.push(e.emailKey);
        }
      }
      return { emails: await deliver(deps, keys) };
    },
  };
}

/**
 * Team threshold: when the team's PAYG charges for the period pass it, one email to Billing users and one
 * `team.payg_threshold_exceeded` webhook event (its deliveries started here). The emails are only queued; returns
 * the keys still unsent, which the workflow's delivery lane sends (`deliverEmails`).
 */
export async function teamPaygThresholdPassed(
  deps: ActivityDeps,
  teamId: string,
  periodStart: number,
  periodEnd: number,
): Promise<string[]> {
  const team = await deps.teams.getTeam(teamId);
  const plan = team && deps.plans.get(team.plan);
  if (!team || !plan || team.paygThresholdMinor === null) return [];
  // Each member's charge at the rates it was spent at (a plan upgrade changes the rate within a period).
  const totalMinor = await deps.credits.teamPaygChargeMinor(teamId, periodStart);
  if (totalMinor <= team.paygThresholdMinor) return [];
  const deliveryIds = await deps.webhooks.recordEvents([
    teamThresholdEventRecord({
      teamId,
      periodStart,
      periodEnd,
      chargesMinor: totalMinor,
      thresholdMinor: team.paygThresholdMinor,
      currency: plan.currency,
      at: Date.now(),
    }),
  ]);
  await deps.deliveries.start(deliveryIds);
  const key = `${teamId}:${day(periodStart)}:payg_threshold`;
  const keys: string[] = [];
  for (const billing of await deps.teams.contacts(teamId, ['billing'])) {
    const emailKey = `${key}:${billing.userId}`;
    await deps.notifications.enqueueEmail({
      emailKey,
      teamId,
      kind: 'team_payg_threshold',
      to: billing.email,
      subject: `Your team's pay-as-you-go AI charges passed the threshold`,
      body: `Pay-as-you-go AI credit charges of team ${teamId} for the period ending ${day(periodEnd)} are ${formatMoney({ amountMinor: totalMinor, currency: plan.currency }, plan.currencyExponent)}, above the threshold of ${formatMoney({ amountMinor: team.paygThresholdMinor, currency: plan.currency }, plan.currencyExponent)}.`,
    });
    keys.push(emailKey);
  }
  return deps.notifications.unsent(keys);
}

/** The team's PAYG cap refused a spend: one email to its Billing users per period. Queued only (see above). */
export async function queueTeamPaygCapEmails(
  deps: ActivityDeps,
  teamId: string,
  periodStart: number,
  capMinor: number,
): Promise<string[]> {
  const team = await deps.teams.getTeam(teamId);
  const plan = team && deps.plans.get(team.plan);
  if (!team || !plan) return [];
  const cap = formatMoney({ amountMinor: capMinor, currency: plan.currency }, plan.currencyExponent);
  const keys: string[] = [];
  for (const billing of await deps.teams.contacts(teamId, ['billing'])) {
    const emailKey = `${teamId}:${day(periodStart)}:team_payg_cap:${billing.userId}`;
    await deps.notifications.enqueueEmail({
      emailKey,
      teamId,
      kind: 'team_payg_cap',
      to: billing.email,
      subject: `Your team reached its monthly pay-as-you-go cap`,
      body: `Pay-as-you-go AI credit charges of team ${teamId} for this period reached the team's cap of ${cap}; further pay-as-you-go use is refused until the period renews, or until the cap is raised.`,
    });
    keys.push(emailKey);
  }
  return deps.notifications.unsent(keys);
}

async function deliver(deps: ActivityDeps, keys: string[]): Promise<number> {
  const claimed = await deps.notifications.claimUnsent(keys);
  for (const [i, e] of claimed.entries()) {
    try {
      await deps.mailer.send({
        to: e.to,
        subject: e.subject,
        text: e.body,
        messageId: `<${Buffer.from(e.emailKey).toString('base64url')}@ai-credits>`,
      });
    } catch (err) {
      for (const rest of claimed.slice(i)) await deps.notifications.release(rest.emailKey);
      throw err;
    }
    await markSentPatiently(deps, e.emailKey);
  }
  // An email claimed by an attempt that died (a killed worker) is neither sent nor ours to send until its claim
  // lapses: fail this attempt so the activity retries, instead of reporting it delivered when it never was.
  const unsent = await deps.notifications.unsent(keys);
  if (unsent.length > 0) {
    throw ApplicationFailure.retryable(
      `${unsent.length} email(s) still claimed by an earlier attempt, retrying once the claim lapses`,
      'EmailClaimedElsewhere',
    );
  }
  return claimed.length;
}

/**
 * The email is out: recording that must not fail on a database blip, or the claim lapses and the email goes out
 * again. Keep trying for up to ~15 s of the activity's 30 s (a PostgreSQL restart takes a few seconds).
 */
async function markSentPatiently(deps: ActivityDeps, emailKey: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.notifications.markSent(emailKey);
    } catch (err) {
      if (attempt >= 10) throw err;
      await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** (attempt - 1), 2000)));
    }
  }
}

function memberSubject(n: MemberNotification): string {
  switch (n.kind) {
    case 'member_75':
      return `You've used 75% of your AI credits`;
    case 'member_100':
      return `You've used all of your AI credits`;
    case 'member_exceeded':
      return `You've exceeded your AI credit limit`;
    case 'member_payg_cap':
      return `You've reached your monthly pay-as-you-go cap`;
    case 'member_team_payg_cap':
      return `Your team has reached its monthly pay-as-you-go cap`;
    case 'member_paused':
      return `Agent Mode is paused`;
    case 'member_resumed':
      return `Agent Mode is working again`;
  }
}

function memberMessage(n: MemberNotification): string {
  const used = `${formatCredits(n.usedMillicredits)} of ${formatCredits(n.totalMillicredits)} credits`;
  switch (n.kind) {
    case 'member_75':
      return `You've used 75% of your AI credits for this period (${used}). Credits renew on ${day(n.periodEnd)}.`;
    case 'member_100':
      return n.continuesWithPayg
        ? `You've used 100% of your AI credits (${used}). Agent Mode continues with pay-as-you-go, billed on your team's next invoice.`
        : `You've used 100% of your AI credits (${used}). Agent Mode is paused until your credits renew on ${day(n.periodEnd)}.`;
    case 'member_exceeded':
      return `You've exceeded your AI credit limit. Further Agent Mode usage is billed as pay-as-you-go until your credits renew on ${day(n.periodEnd)}.`;
    case 'member_payg_cap':
      return `You've reached the monthly pay-as-you-go cap your Billing admin set. Agent Mode is paused beyond your credits until they renew on ${day(n.periodEnd)}.`;
    case 'member_team_payg_cap':
      return `Your team has reached its monthly pay-as-you-go cap. Agent Mode works within your remaining credits until they renew on ${day(n.periodEnd)}.`;
    case 'member_paused':
      return n.reason === 'credits_held'
        ? `Agent Mode is paused: your remaining AI credits are held by running actions and pay-as-you-go is off. It resumes when they finish with credits to spare, when credits are bought, or when they renew on ${day(n.periodEnd)}.`
        : `Agent Mode is paused: you have used all your AI credits (${used}) and pay-as-you-go is off. It resumes when pay-as-you-go is turned on, credits are bought, or they renew on ${day(n.periodEnd)}.`;
    case 'member_resumed':
      return `Agent Mode is working again: ${RESUMED_BECAUSE[n.reason ?? ''] ?? 'credits are available'}.`;
  }
}

/**
 * The member state's validators, each rule at its boundary, with the error a client receives (its type travels as
 * the error name, its message as the 400's message). Validators run before a message enters history: what they
 * reject leaves no trace, so each accepted neighbour of a rejected value is checked too.
 */
import {
  MAX_OPEN_HOLDS,
  MAX_PENDING_DELIVERIES,
  MAX_RESERVATION_ID_LENGTH,
  MAX_RESERVATION_TTL_MS,
  MemberCreditsState,
} from '../../workflows/member-credits/state';
import type {
  ChangePlanInput,
  ConsumeInput,
  MemberIdentity,
  ReserveInput,
  SetPaygInput,
  SettleInput,
} from '../../workflows/member-credits/types';
import { freePlan, paidPlan } from '../support/plans';

const T0 = Date.UTC(2024, 0, 10, 12);
const paid: MemberIdentity = { teamId: 't1', userId: 'u1', billingAnchorDay: 31, plan: paidPlan };
const free: MemberIdentity = { ...paid, plan: freePlan };
const open = (identity = paid) => MemberCreditsState.open(identity, T0, 'run-1');
const ask = (extra: Partial<ConsumeInput> | Record<string, unknown> = {}) =>
  ({ requestId: 'r', action: 'chat', millicredits: 1, holder: 'api-1', ...extra }) as ConsumeInput;
const hold = (extra: Partial<ReserveInput> | Record<string, unknown> = {}) =>
  ({ reservationId: 'h', action: 'chat', millicredits: 1_000, ttlMs: 60_000, ...extra }) as ReserveInput;

/** The error `fn` throws, as the client sees it: its name and message. */
function thrown(fn: () => void): { name: string; message: string } | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return { name: (err as Error).name, message: (err as Error).message };
  }
}
const invalid = (message: string) => ({ name: 'InvalidMessageError', message });

describe('validateConsume', () => {
  it.each([
    [{ requestId: undefined }, 'requestId is required'],
    [{ requestId: 7 }, 'requestId is required'],
    [{ requestId: '' }, 'requestId is required'],
    [{ requestId: 'x'.repeat(129) }, 'requestId must be at most 128 characters'],
    [{ requestId: 'a b' }, 'requestId must be printable ASCII without spaces'],
    [{ requestId: 'a\x7f' }, 'requestId must be printable ASCII without spaces'],
    [{ requestId: 'é' }, 'requestId must be printable ASCII without spaces'],
    [{ action: 'rm -rf' }, 'unknown action: rm -rf'],
    [{ millicredits: 0 }, 'credits must be a positive amount with at most 3 decimals'],
    [{ millicredits: '5' }, 'credits must be a positive amount with at most 3 decimals'],
    [{ millicredits: 2 ** 53 }, 'credits must be a positive amount with at most 3 decimals'],
    [{ millicredits: 200_001 }, 'credits exceeds the maximum of 200 per request'],
    [{ holder: undefined }, 'holder is required'],
    [{ holder: '' }, 'holder is required'],
    [{ holder: 'h'.repeat(65) }, 'holder is required'],
    [{ returnLeases: {} }, 'returnLeases must be a list of at most 16 leases'],
    [
      { returnLeases: Array.from({ length: 17 }, (_, i) => ({ leaseId: `l${i}`, used: 0 })) },
      'returnLeases must be a list of at most 16 leases',
    ],
    [{ returnLeases: [null] }, 'returnLeases holds an invalid lease'],
    [{ returnLeases: [{ leaseId: 1, used: 0 }] }, 'returnLeases holds an invalid lease'],
    [{ returnLeases: [{ leaseId: 'l', used: 0.5 }] }, 'returnLeases holds an invalid lease'],
    [{ returnLeases: [{ leaseId: 'l', used: -1 }] }, 'returnLeases holds an invalid lease'],
  ])('rejects %j: %s', (extra, message) => {
    expect(thrown(() => open().validateConsume(ask(extra)))).toEqual(invalid(message));
  });

  it.each([
    { requestId: 'x'.repeat(128) },
    { requestId: '!~' },
    { millicredits: 200_000 },
    { holder: 'h'.repeat(64) },
    { returnLeases: [] },
    { returnLeases: Array.from({ length: 16 }, (_, i) => ({ leaseId: `l${i}`, used: 0 })) },
    { returnLeases: [{ leaseId: 'l', used: 5 }] },
  ])('accepts the neighbour %j', (extra) => {
    expect(thrown(() => open().validateConsume(ask(extra)))).toBeUndefined();
  });

  it('refuses everything once the member is removed', () => {
    const s = open();
    s.remove(T0);
    const removed = { name: 'MemberRemovedError', message: 'member has been removed from the team' };
    expect(thrown(() => s.validateConsume(ask()))).toEqual(removed);
    expect(thrown(() => s.validatePurchase({ purchaseId: 'p', millicredits: 1 }))).toEqual(removed);
    expect(thrown(() => s.validateSetPayg({ enabled: true }))).toEqual(removed);
    expect(thrown(() => s.validateReserve(hold()))).toEqual(removed);
    expect(thrown(() => s.validateRelease('h'))).toEqual(removed);
    expect(thrown(() => s.validateSettle({ reservationId: 'h', millicredits: 1 }))).toEqual(removed);
  });

  it('refuses new decisions while charges, notifications and emails wait, a repeat still passes', () => {
    const s = open();
    s.consume(ask({ requestId: 'seen' }), T0);
    s.queueEmails(Array.from({ length: MAX_PENDING_DELIVERIES - 1 }, (_, i) => `e${i}`));
    expect(thrown(() => s.validateConsume(ask({ requestId: 'new' })))).toBeUndefined();
    s.queueEmails(['last', 'e0']); // a key already queued is not queued twice
    expect(s.pendingDeliveries()).toBe(MAX_PENDING_DELIVERIES);
    expect(thrown(() => s.validateConsume(ask({ requestId: 'new' })))).toEqual({
      name: 'BackpressureError',
      message: `${MAX_PENDING_DELIVERIES} charges and notifications are waiting for delivery; retry shortly`,
    });
    expect(thrown(() => s.validateConsume(ask({ requestId: 'seen' })))).toBeUndefined();
    s.ackEmails(1);
    expect(thrown(() => s.validateConsume(ask({ requestId: 'new' })))).toBeUndefined();
  });
});

describe('validatePurchase', () => {
  it('checks the plan, the id and the amount', () => {
    const s = open();
    expect(thrown(() => open(free).validatePurchase({ purchaseId: 'p', millicredits: 1 }))).toEqual({
      name: 'NotAllowedError',
      message: 'plan free does not allow credit purchases',
    });
    expect(thrown(() => s.validatePurchase({ purchaseId: '', millicredits: 1 }))).toEqual(
      invalid('purchaseId is required'),
    );
    expect(thrown(() => s.validatePurchase({ purchaseId: 'p', millicredits: 0 }))).toEqual(
      invalid('credits must be a positive amount with at most 3 decimals'),
    );
    expect(thrown(() => s.validatePurchase({ purchaseId: 'p', millicredits: paidPlan.maxPurchase + 1 }))).toEqual(
      invalid('credits exceeds the maximum of 100000 per request'),
    );
    expect(thrown(() => s.validatePurchase({ purchaseId: 'p', millicredits: paidPlan.maxPurchase }))).toBeUndefined();
  });
});

describe('validateSetPayg', () => {
  it.each([
    [{ enabled: 'yes' }, 'enabled must be a boolean'],
    [{}, 'give enabled, monthlyCapMinor or both'],
    [
      { enabled: true, monthlyCapMinor: -1 },
      'monthlyCapMinor must be a whole amount of minor units, 0 or more, or null',
    ],
    [
      { enabled: true, monthlyCapMinor: 1.5 },
      'monthlyCapMinor must be a whole amount of minor units, 0 or more, or null',
    ],
    [
      { enabled: true, monthlyCapMinor: '5' },
      'monthlyCapMinor must be a whole amount of minor units, 0 or more, or null',
    ],
  ])('rejects %j', (input, message) => {
    expect(thrown(() => open().validateSetPayg(input as SetPaygInput))).toEqual(invalid(message));
  });

  it.each([{ enabled: true }, { enabled: false, monthlyCapMinor: null }, { enabled: true, monthlyCapMinor: 0 }])(
    'accepts %j',
    (input) => {
      expect(thrown(() => open().validateSetPayg(input))).toBeUndefined();
    },
  );

  it('turns PAYG off on a plan without it, never on', () => {
    const s = open(free);
    expect(thrown(() => s.validateSetPayg({ enabled: false }))).toBeUndefined();
    expect(thrown(() => s.validateSetPayg({ enabled: true }))).toEqual({
      name: 'NotAllowedError',
      message: 'pay-as-you-go is not available on plan free',
    });
  });
});

describe('validateReserve, validateRelease, validateSettle', () => {
  it.each([
    [{ reservationId: 'x'.repeat(MAX_RESERVATION_ID_LENGTH + 1) }, 'reservationId must be at most 120 characters'],
    [{ reservationId: '' }, 'reservationId is required'],
    [{ action: 'nope' }, 'unknown action: nope'],
    [{ millicredits: 200_001 }, 'credits exceeds the maximum of 200 per request'],
    [{ ttlMs: 999 }, 'ttlSeconds must be from 1 to 86400'],
    [{ ttlMs: MAX_RESERVATION_TTL_MS + 1 }, 'ttlSeconds must be from 1 to 86400'],
    [{ ttlMs: 1_500.5 }, 'ttlSeconds must be from 1 to 86400'],
  ])('reserve rejects %j', (extra, message) => {
    expect(thrown(() => open().validateReserve(hold(extra)))).toEqual(invalid(message));
  });

  it.each([
    { reservationId: 'x'.repeat(MAX_RESERVATION_ID_LENGTH) },
    { ttlMs: 1_000 },
    { ttlMs: MAX_RESERVATION_TTL_MS },
    { millicredits: 200_000 },
  ])('reserve accepts the neighbour %j', (extra) => {
    expect(thrown(() => open().validateReserve(hold(extra)))).toBeUndefined();
  });

  it(`refuses a new reservation while ${MAX_OPEN_HOLDS} are open, not a repeat of one of them`, () => {
    const big: MemberIdentity = { ...paid, plan: { ...paidPlan, monthlyAllowance: 10_000_000 } };
    const s = open(big);
    for (let i = 0; i < MAX_OPEN_HOLDS - 1; i++) s.reserve(hold({ reservationId: `h${i}`, millicredits: 1 }), T0);
    expect(thrown(() => s.validateReserve(hold({ reservationId: 'one-more' })))).toBeUndefined();
    s.reserve(hold({ reservationId: 'last', millicredits: 1 }), T0);
    expect(thrown(() => s.validateReserve(hold({ reservationId: 'one-more' })))).toEqual({
      name: 'BackpressureError',
      message: `${MAX_OPEN_HOLDS} reservations are open; settle or release some, they are waiting for delivery; retry shortly`,
    });
    expect(thrown(() => s.validateReserve(hold({ reservationId: 'h0', millicredits: 1 })))).toBeUndefined();
  });

  it('release and settle check the id; settle takes 0 up to what is held', () => {
    const s = open();
    s.reserve(hold({ reservationId: 'h', millicredits: 1_500 }), T0);
    expect(thrown(() => s.validateRelease('x'.repeat(121)))).toEqual(
      invalid('reservationId must be at most 120 characters'),
    );
    expect(thrown(() => s.validateRelease('h'))).toBeUndefined();
    const settle = (input: Partial<SettleInput> | Record<string, unknown>) =>
      thrown(() => s.validateSettle({ reservationId: 'h', millicredits: 0, ...input } as SettleInput));
    const bad = invalid('credits must be 0 or more, with at most 3 decimals');
    expect(settle({ millicredits: -1 })).toEqual(bad);
    expect(settle({ millicredits: 0.5 })).toEqual(bad);
    expect(settle({ millicredits: '1' })).toEqual(bad);
    expect(settle({ millicredits: 1_501 })).toEqual(invalid('credits must be at most the 1.5 held'));
    expect(settle({ millicredits: 1_500 })).toBeUndefined();
    expect(settle({ millicredits: 0 })).toBeUndefined();
    expect(settle({ reservationId: '' })).toEqual(invalid('reservationId is required'));
    // Not held (never made): the validator lets it through, settle answers that it is not held.
    expect(settle({ reservationId: 'other', millicredits: 99_999 })).toBeUndefined();
    expect(thrown(() => s.settle({ reservationId: 'other', millicredits: 1 }, T0))).toEqual({
      name: 'ReservationNotHeldError',
      message: 'reservation other is not held',
    });
  });
});

describe('validateChangePlan', () => {
  const pro = { ...paidPlan, planId: 'pro', monthlyAllowance: 250_000 };
  const change = (extra: Record<string, unknown> = {}, plan: Record<string, unknown> = {}) =>
    ({
      changeId: 'c1',
      fromPlanId: 'basic',
      plan: { ...pro, ...plan },
      paygEnabled: null,
      ...extra,
    }) as ChangePlanInput;
  const incomplete = invalid('plan must be complete plan terms in the same currency');

  it.each([
    [{ changeId: '' }, invalid('changeId is required')],
    [{ changeId: 'a b' }, invalid('changeId must be printable ASCII without spaces')],
    [{ fromPlanId: undefined }, invalid('fromPlanId is required')],
    [{ plan: undefined }, incomplete],
    [{ paygEnabled: 'yes' }, invalid('paygEnabled must be a boolean or null')],
    [{ paygEnabled: undefined }, invalid('paygEnabled must be a boolean or null')],
  ])('rejects %j', (extra, error) => {
    expect(thrown(() => open().validateChangePlan(change(extra)))).toEqual(error);
  });

  it.each([
    { planId: 7 },
    { monthlyAllowance: -1 },
    { monthlyAllowance: 1.5 },
    { monthlyAllowance: '250' },
    { paygRateMicrosPerCredit: -1 },
    { purchaseRateMicrosPerCredit: 2 ** 53 },
    { maxCreditsPerAction: undefined },
    { maxPurchase: -5 },
    { paygAvailable: 'true' },
    { purchasesAllowed: 1 },
    { currency: 'EUR' },
  ])('rejects plan terms %j', (plan) => {
    expect(thrown(() => open().validateChangePlan(change({}, plan)))).toEqual(incomplete);
  });

  it.each([
    [{}, {}],
    [{ paygEnabled: true }, {}],
    [{ paygEnabled: false }, { paygAvailable: false, purchasesAllowed: false }],
    [
      {},
      {
        monthlyAllowance: 0,
        paygRateMicrosPerCredit: 0,
        purchaseRateMicrosPerCredit: 0,
        maxCreditsPerAction: 0,
        maxPurchase: 0,
      },
    ],
  ])('accepts %j with plan terms %j', (extra, plan) => {
    expect(thrown(() => open().validateChangePlan(change(extra, plan)))).toBeUndefined();
  });

  it('refuses a change for a removed member', () => {
    const s = open();
    s.remove(T0);
    expect(thrown(() => s.validateChangePlan(change()))).toEqual({
      name: 'MemberRemovedError',
      message: 'member has been removed from the team',
    });
  });
});

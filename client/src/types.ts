/**
 * The shapes the client's methods take and answer, each picked from the generated `schema.d.ts`: when the API
 * changes, `npm run client:generate` changes them, and `npm run client:check` fails until it has been run.
 */
import type { operations, paths } from './schema';

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never;

/** The body of an answer of an operation, as the API's document describes it. */
export type Answer<Op extends keyof operations, Status extends keyof operations[Op]['responses']> = Json<
  operations[Op]['responses'][Status]
>;

/** The body an operation takes. */
export type RequestBody<Op extends keyof operations> = operations[Op] extends {
  requestBody: { content: { 'application/json': infer T } };
}
  ? T
  : never;

export type Paths = paths;

/** Credits in a request: a number or a decimal string, at most 3 decimals ("2.5"). Answers give decimal strings. */
export type CreditAmount = RequestBody<'consume'>['credits'];
export type ActionName = RequestBody<'consume'>['action'];

export type ConsumeAnswer = Answer<'consume', 200>;
export type Balance = ConsumeAnswer['balance'];
export type Charged = NonNullable<ConsumeAnswer['charged']>;
export type Money = Balance['paygCharge'];

/** A consumption or reservation the API refused (402): nothing was recorded or held. */
export type Refusal = Answer<'reserve', 402>;

export type MemberCreditsView = Answer<'getMemberCredits', 200>;
export type PaygAnswer = Answer<'setPayg', 200>;
export type PurchaseAnswer = Answer<'purchaseCredits', 201>;
export type TeamUsagePage = Answer<'getTeamUsage', 200>;

/** Spec §14: credits held for an action whose cost is known only after it ran. */
export type Reservation = Answer<'reserve', 200>;
export type Settlement = Answer<'settleReservation', 200>;
export type Release = Answer<'releaseReservation', 200>;

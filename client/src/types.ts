/**
 * The shapes the client's methods take and answer. Each comes from the generated `schema.d.ts` where the API's
 * document describes it; where it does not yet (a route that declares no schema for its answer, the reservation routes
 * of spec §14 before they are served), from the contract, written here, until `npm run client:generate` brings the
 * document's own: `Documented` and `Undocumented` pick the generated type as soon as there is one.
 */
import type { operations, paths } from './schema';

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never;

/** The body of an answer of an operation, as the API's document describes it. */
export type Answer<Op extends keyof operations, Status extends keyof operations[Op]['responses']> = Json<
  operations[Op]['responses'][Status]
>;

/** The document's type when it has one, else the contract's. */
type Documented<T, Contract> = unknown extends T ? Contract : T;

/** Credits in a request: a number or a decimal string, at most 3 decimals ("2.5"). Answers give decimal strings. */
export type CreditAmount = number | string;

export type ConsumeAnswer = Answer<'consume', 200>;
export type Balance = ConsumeAnswer['balance'];
export type Charged = NonNullable<ConsumeAnswer['charged']>;
export type Money = Balance['paygCharge'];
export type ActionName = operations['consume']['requestBody']['content']['application/json']['action'];

/** A consumption or reservation the API refused (402): nothing was recorded or held. */
export interface Refusal {
  decision: 'refused';
  reason: string;
  balance: Balance;
}

export interface PlanTermsView {
  planId: string;
  monthlyAllowance: string;
  paygAvailable: boolean;
  paygRateMicrosPerCredit: number;
  purchasesAllowed: boolean;
  purchaseRateMicrosPerCredit: number;
  maxPurchaseCredits: string;
  maxCreditsPerAction: string;
  currency: string;
  currencyExponent: number;
}

export type MemberCreditsView = Documented<
  Answer<'getMemberCredits', 200>,
  {
    teamId: string;
    userId: string;
    plan: string;
    planTerms: PlanTermsView;
    notificationsSent: string[];
    balance: Balance;
  }
>;

export type PaygAnswer = Documented<Answer<'setPayg', 200>, { teamId: string; userId: string; balance: Balance }>;

export type PurchaseAnswer = Documented<
  Answer<'purchaseCredits', 201>,
  { purchaseId: string; credits: string; price: Money; balance: Balance }
>;

export type TeamUsagePage = Documented<
  Answer<'getTeamUsage', 200>,
  {
    teamId: string;
    plan: string;
    planTerms: PlanTermsView;
    members: { userId: string; email: string; roles: string[]; balance: Balance }[];
    /** Null on the last page. */
    nextCursor: string | null;
  }
>;

/** Spec §14: credits held for an action whose cost is known only after it ran. */
export interface Reservation {
  reservationId: string;
  status: 'held';
  held: string;
  expiresAt: string;
  balance: Balance;
}

export interface Settlement {
  reservationId: string;
  status: 'settled';
  decision: 'allowed' | 'allowed_payg';
  charged: Charged;
  balance: Balance;
}

export interface Release {
  reservationId: string;
  status: 'released';
  balance: Balance;
}

type Ok<T> = { headers: { [name: string]: unknown }; content: { 'application/json': T } };
type ErrorAnswers = {
  [S in 400 | 401 | 403 | 404 | 409 | 413 | 429 | 503]: Ok<{ error: { code: string; message: string } }>;
};
type NoParameters = { query?: never; header?: never; path?: never; cookie?: never };
type Parameters<Path> = { query?: never; header?: never; path: Path; cookie?: never };
type MemberPath = { teamId: string; userId: string };
type ReservationPath = MemberPath & { reservationId: string };

/** The reservation routes of spec §14, in the generated file's form, while the served document lacks them. */
interface ReservationPaths {
  '/v1/teams/{teamId}/members/{userId}/reservations': {
    parameters: NoParameters;
    post: {
      parameters: Parameters<MemberPath>;
      requestBody: {
        content: {
          'application/json': { reservationId: string; action: ActionName; credits: CreditAmount; ttlSeconds?: number };
        };
      };
      responses: { 200: Ok<Reservation>; 402: Ok<Refusal> } & ErrorAnswers;
    };
  };
  '/v1/teams/{teamId}/members/{userId}/reservations/{reservationId}/settle': {
    parameters: NoParameters;
    post: {
      parameters: Parameters<ReservationPath>;
      requestBody: { content: { 'application/json': { credits: CreditAmount } } };
      responses: { 200: Ok<Settlement> } & ErrorAnswers;
    };
  };
  '/v1/teams/{teamId}/members/{userId}/reservations/{reservationId}': {
    parameters: NoParameters;
    delete: {
      parameters: Parameters<ReservationPath>;
      requestBody?: never;
      responses: { 200: Ok<Release> } & ErrorAnswers;
    };
  };
}

/** The generated paths, and those of the contract the document does not have yet. */
export type Paths = paths & Omit<ReservationPaths, keyof paths>;

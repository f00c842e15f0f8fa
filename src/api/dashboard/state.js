/*
 * The signed-in session: who is signed in, their token (kept in sessionStorage: this tab only), and the counters
 * that let late answers from an earlier session or an older refresh be recognised and dropped.
 */

const TOKEN_KEY = 'aiCredits.dashboard.token';
/** What the server accepts in a bearer token (src/api/auth.ts). */
export const TOKEN_RE = /^[\x21-\x7e]{1,512}$/;

export const session = {
  token: null,
  /** { teamId, userId, roles } from GET /v1/me */
  me: null,
  /** Bumped at every sign-in/sign-out so late answers from an old session are dropped. */
  gen: 0,
  /** Aborted at sign-out: every request of the session stops. */
  abort: new AbortController(),
  /** Bumped whenever a mutation starts or ends; a refresh started earlier won't overwrite that row. */
  mutationSeq: 0,
  /** The team's plan id and terms, from the last usage or credits answer. */
  plan: null,
  /** The team's currency (ISO 4217), from the same answers. */
  currency: null,
};

/** Ends the current session's requests and starts a new generation; returns it. */
export function newGeneration() {
  session.gen += 1;
  session.abort.abort();
  session.abort = new AbortController();
  return session.gen;
}

export const isStaff = (me) => !!me && (me.roles.includes('admin') || me.roles.includes('billing'));
export const isBilling = (me) => !!me && me.roles.includes('billing');

export function readStoredToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch (_) {
    return null;
  }
}
export function storeToken(token) {
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
  } catch (_) {
    /* storage unavailable: the session lasts until reload */
  }
}
export function clearStoredToken() {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch (_) {
    /* ignore */
  }
}

/*
 * AI credits — resource usage dashboard and AI credit details. The entry point (a module script of index.html):
 * sign in and out, the refresh every 10 s, and which views a signed-in member gets.
 *
 * Plain ES modules, no framework and no build step, served from src/api/dashboard/ by src/api/routes/system.ts.
 * Where things are:
 *   api.js        the fetch wrapper (bearer token, JSON, errors, 429 Retry-After)
 *   state.js      the session (token, who is signed in, generations that drop late answers)
 *   poller.js     the refresh timer (paused while the tab is hidden)
 *   format.js     credits and money as exact decimals, dates
 *   chart-data.js what the charts draw, from the API's answers (pure)
 *   csv.js        the usage table as CSV (pure)
 *   views/        usage-table (Admin, Billing), member-details (a member's card and chart), team-payg (the team's
 *                 PAYG chart and cap), charts (Chart.js), member-view (a row or card), member-actions (PAYG switch,
 *                 member cap, buy credits), cap-dialog (a member's or the team's PAYG cap), audit (the audit trail),
 *                 alerts
 */
import { ApiError, fetchMe, isAbort } from './api.js';
import { $, h, setText, show } from './dom.js';
import { TIME_FORMAT, roleLabel } from './format.js';
import { clearError, clearNotice, reportError, showError, whenUnauthorized } from './notices.js';
import { createPoller } from './poller.js';
import { TOKEN_RE, clearStoredToken, isStaff, newGeneration, readStoredToken, session, storeToken } from './state.js';
import { loadAlerts, resetAlerts } from './views/alerts.js';
import { initAudit, loadAudit, resetAudit } from './views/audit.js';
import { initCapDialog, resetCapDialog } from './views/cap-dialog.js';
import { initMemberActions, resetMemberActions } from './views/member-actions.js';
import { closeDetails, loadDetails, loadSelf, resetMemberDetails } from './views/member-details.js';
import { initTeamPayg, loadTeamPayg, resetTeamPayg } from './views/team-payg.js';
import { initUsageTable, loadUsageTable, resetUsageTable } from './views/usage-table.js';

const REFRESH_MS = 10_000;

let refreshing = false;
const poller = createPoller({ intervalMs: REFRESH_MS, refresh: () => refresh() });

// ---- signed out / signed in ----

/** Shows the views the signed-in member's roles open, empty and loading. */
function configureDashboard() {
  const me = session.me;
  const staff = isStaff(me);
  const roles = me.roles.length ? me.roles.map(roleLabel).join(', ') : 'no roles';
  setText($('whoami'), me.userId + ' · team ' + me.teamId + ' · ' + roles);
  $('whoami').title = 'Signed in as ' + me.userId + ' in team ' + me.teamId;
  show($('team-section'), staff);
  show($('team-payg-section'), staff);
  show($('audit-section'), staff);
  show($('self-section'), !staff);
  setText(
    $('dash-subtitle'),
    staff ? 'AI credits of every member of your team, this billing period' : 'Your AI credits this billing period',
  );
  resetViews();
  show($('self-loading'), true);
}

function resetViews() {
  resetUsageTable();
  resetMemberDetails();
  resetTeamPayg();
  resetAudit();
  resetAlerts();
  $('self-period').replaceChildren();
  delete $('self-period').dataset.key;
}

function showSignedIn() {
  show($('signin-view'), false);
  show($('dashboard-view'), true);
  show($('session-bar'), true);
}

function showSignedOut() {
  show($('dashboard-view'), false);
  show($('session-bar'), false);
  show($('signin-view'), true);
}

async function signIn(token, restoring) {
  const gen = newGeneration();
  session.token = token;
  const button = $('sign-in');
  button.disabled = true;
  setText(button, 'Signing in…');
  try {
    const me = await fetchMe();
    if (gen !== session.gen) return;
    session.me = me;
    storeToken(token);
    clearError();
    $('token-input').value = '';
    configureDashboard();
    showSignedIn();
    $('dash-title').focus();
    await refresh({ skipMe: true });
    poller.start();
  } catch (err) {
    if (isAbort(err) || gen !== session.gen) return;
    session.token = null;
    session.me = null;
    clearStoredToken();
    showSignedOut();
    let message = err && err.message ? err.message : 'Sign-in failed.';
    if (err instanceof ApiError && err.status === 401) {
      message = (restoring ? 'Your saved session has ended: ' : 'That token was not accepted: ') + err.message + '.';
    } else if (err instanceof ApiError && err.status === 403) {
      message = 'This page needs a member token (' + err.message + ').';
    }
    showError(message, 'session');
    if (!restoring) $('token-input').focus();
  } finally {
    if (gen === session.gen) {
      button.disabled = false;
      setText(button, 'Sign in');
    }
  }
}

function signOut(message) {
  newGeneration();
  poller.stop();
  clearStoredToken();
  session.token = null;
  session.me = null;
  session.plan = null;
  session.currency = null;
  refreshing = false;
  resetMemberActions();
  resetCapDialog();
  resetViews();
  setText($('last-updated'), '');
  setRefreshBusy(false);
  clearNotice();
  const button = $('sign-in');
  button.disabled = false;
  setText(button, 'Sign in');
  showSignedOut();
  if (message) showError(message, 'session');
  else clearError();
  $('token-input').focus();
}

// ---- refresh ----

function setRefreshBusy(busy) {
  const button = $('refresh');
  button.setAttribute('aria-disabled', busy ? 'true' : 'false');
  button.classList.toggle('is-busy', busy);
  setText(button, busy ? 'Refreshing…' : 'Refresh');
  for (const id of ['team-section', 'self-section', 'alerts-section'])
    $(id).setAttribute('aria-busy', busy ? 'true' : 'false');
}

/** Everything the signed-in member sees, fetched at once; one banner names whatever failed. */
async function refresh(opts) {
  if (!session.me || refreshing) return;
  const gen = session.gen;
  refreshing = true;
  setRefreshBusy(true);
  try {
    if (!(opts && opts.skipMe)) {
      // Roles may have changed since sign-in (and a revoked token shows up here as a 401).
      const me = await fetchMe();
      if (gen !== session.gen) return;
      const changed =
        me.teamId !== session.me.teamId ||
        me.userId !== session.me.userId ||
        me.roles.join() !== session.me.roles.join();
      session.me = me;
      if (changed) configureDashboard();
    }
    const staff = isStaff(session.me);
    const loads = staff ? [loadUsageTable(), loadTeamPayg(), loadDetails(), loadAudit()] : [loadSelf()];
    const results = await Promise.allSettled([...loads, loadAlerts()]);
    if (gen !== session.gen) return;
    const failures = results.filter((r) => r.status === 'rejected' && !isAbort(r.reason)).map((r) => r.reason);
    const unauthorized = failures.find((e) => e instanceof ApiError && e.status === 401);
    if (unauthorized) return reportError(unauthorized, 'refresh');
    if (failures.length) {
      const messages = [...new Set(failures.map((e) => (e && e.message) || 'Something went wrong.'))];
      showError('Could not load the latest data: ' + messages.join(' '), 'refresh');
    } else {
      clearError('refresh');
    }
    if (results[0].status === 'fulfilled') {
      const now = new Date();
      $('last-updated').replaceChildren(
        'Updated ',
        h('time', { datetime: now.toISOString() }, TIME_FORMAT.format(now)),
      );
    }
  } catch (err) {
    if (gen !== session.gen) return;
    if (!isAbort(err)) reportError(err, 'refresh');
  } finally {
    if (gen === session.gen) {
      refreshing = false;
      setRefreshBusy(false);
    }
  }
}

// ---- wiring ----

function init() {
  whenUnauthorized(signOut);
  initMemberActions({ onUncertain: () => refresh() });
  initCapDialog({ onUncertain: () => refresh() });
  initUsageTable();
  initTeamPayg();
  initAudit();

  $('signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $('token-input');
    const token = input.value.trim();
    const errorEl = $('token-error');
    let problem = '';
    if (!token) problem = 'Enter your member token.';
    else if (!TOKEN_RE.test(token)) problem = 'A token has no spaces and only printable ASCII characters.';
    setText(errorEl, problem);
    show(errorEl, !!problem);
    if (problem) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    if ($('sign-in').disabled) return;
    void signIn(token, false);
  });

  $('sign-out').addEventListener('click', () => signOut());
  $('error-dismiss').addEventListener('click', () => clearError());
  $('refresh').addEventListener('click', () => {
    if (refreshing) return;
    poller.ran();
    void refresh();
  });
  $('details-close').addEventListener('click', () => closeDetails());

  const stored = readStoredToken();
  if (stored && TOKEN_RE.test(stored)) void signIn(stored, true);
  else {
    if (stored) clearStoredToken();
    showSignedOut();
  }
}

// Module scripts run after the document is parsed.
init();

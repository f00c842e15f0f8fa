/*
 * What Billing does from a member's row: turn PAYG on or off, set their monthly PAYG cap (cap-dialog.js), and buy
 * credits (a dialog). Each updates the row from the answer at once; an uncertain outcome (network, 5xx) asks for a
 * refresh to show the truth.
 */
import { api, ApiError, isAbort, isUncertain, memberPath } from '../api.js';
import { $, setText, show } from '../dom.js';
import { formatMoney, newRequestId, toMilli } from '../format.js';
import { clearError, reportError, showError, showNotice } from '../notices.js';
import { session } from '../state.js';
import { openCapDialog } from './cap-dialog.js';

/** The open buy-credits attempt. */
let buy = null;
let refresh = () => undefined;

/** The switch of a member's row changed (role=switch checkbox). */
export async function togglePayg(view) {
  const input = view.toggleEl;
  const enabled = input.checked;
  if (view.pending) {
    // One change at a time: keep showing the value being saved.
    input.checked = !!view.pendingValue;
    return;
  }
  if (!view.balance || !view.balance.paygAvailable) {
    input.checked = !!(view.balance && view.balance.paygEnabled);
    return;
  }
  const gen = session.gen;
  const name = view.displayName();
  view.setPending(true, enabled);
  view.lastMutation = ++session.mutationSeq;
  try {
    const { data } = await api('PUT', memberPath(session.me, view.userId) + '/payg', { enabled });
    if (gen !== session.gen) return;
    view.lastMutation = ++session.mutationSeq;
    view.setPending(false);
    view.setBalance(data.balance);
    clearError('action');
    const b = data.balance || {};
    let message = 'Pay-as-you-go turned ' + (b.paygEnabled ? 'on' : 'off') + ' for ' + name + '.';
    if (b.paused) message += ' Agent Mode is paused for them until credits renew.';
    showNotice(message);
  } catch (err) {
    if (gen !== session.gen) return;
    view.lastMutation = ++session.mutationSeq;
    view.setPending(false);
    input.checked = !!(view.balance && view.balance.paygEnabled);
    reportError(err, 'action');
    // The outcome of a failed request may be unknown: fetch the truth.
    if (isUncertain(err)) refresh();
  }
}

/** The PAYG cap of a member's row: set, changed or removed in the cap dialog. */
export function editMemberCap(view) {
  const b = view.balance;
  if (!b) return;
  const name = view.displayName();
  const touched = () => (view.lastMutation = ++session.mutationSeq);
  openCapDialog({
    title: 'Monthly pay-as-you-go cap',
    description:
      'For ' +
      name +
      '. Their pay-as-you-go charges in a billing period stop at the cap: an action that would pass it is refused, ' +
      'and Billing gets one email when it is reached. Pay-as-you-go stays ' +
      (b.paygEnabled ? 'on' : 'off') +
      '.',
    who: name,
    current: b.paygCap || null,
    currency: (b.paygCharge && b.paygCharge.currency) || session.currency || 'USD',
    path: memberPath(session.me, view.userId) + '/payg',
    bodyOf: (capMinor) => ({ monthlyCapMinor: capMinor }),
    started: touched,
    failed: touched,
    applied: (data) => {
      touched();
      if (view.el.isConnected) view.setBalance(data.balance);
    },
    focusBack: () => view.focusCap(),
  });
}

const dialog = () => $('buy-dialog');

export function openBuy(view) {
  // One purchaseId per attempt: kept for every retry of this attempt, so a double click or a retry after a
  // lost answer cannot buy twice.
  buy = {
    userId: view.userId,
    view,
    name: view.displayName(),
    purchaseId: newRequestId(),
    pending: false,
    /** After an uncertain outcome the amount is locked: a retry must repeat the same request. */
    locked: false,
  };
  setText($('buy-member'), buy.name);
  const input = $('buy-credits-input');
  input.value = '';
  input.readOnly = false;
  input.removeAttribute('aria-invalid');
  setBuyError('');
  setBuyPending(false);
  const d = dialog();
  if (typeof d.showModal === 'function') {
    if (!d.open) d.showModal();
  } else {
    d.setAttribute('open', '');
  }
  input.focus();
}

export function closeBuyDialog() {
  const d = dialog();
  if (!d.open) return;
  if (typeof d.close === 'function') d.close();
  else d.removeAttribute('open');
}

function setBuyError(message) {
  const el = $('buy-error');
  setText(el, message);
  show(el, !!message);
  const input = $('buy-credits-input');
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

function setBuyPending(pending) {
  const button = $('buy-submit');
  button.disabled = pending;
  setText(button, pending ? 'Buying…' : buy && buy.locked ? 'Retry purchase' : 'Buy credits');
}

async function submitBuy(event) {
  event.preventDefault();
  const attempt = buy;
  if (!attempt || attempt.pending) return;
  const input = $('buy-credits-input');
  const credits = input.value.trim();
  const milli = toMilli(credits);
  if (milli === null || milli <= 0n) {
    setBuyError('Enter a positive number of credits with at most 3 decimal places, such as 100 or 12.5.');
    input.focus();
    return;
  }
  if (attempt.locked && credits !== attempt.credits) {
    // Unreachable while the input is read-only; kept as a guard.
    input.value = attempt.credits;
    return;
  }
  attempt.credits = credits;
  attempt.pending = true;
  setBuyError('');
  setBuyPending(true);
  const gen = session.gen;
  const view = attempt.view;
  view.lastMutation = ++session.mutationSeq;
  try {
    const { status, data } = await api('POST', memberPath(session.me, attempt.userId) + '/credit-purchases', {
      purchaseId: attempt.purchaseId,
      credits,
    });
    if (gen !== session.gen) return;
    view.lastMutation = ++session.mutationSeq;
    attempt.pending = false;
    if (view.el.isConnected) view.setBalance(data.balance);
    if (buy === attempt) {
      buy = null;
      closeBuyDialog();
    }
    clearError('action');
    const bought =
      (status === 200 ? 'Already recorded: ' : 'Bought ') +
      data.credits +
      ' credits for ' +
      attempt.name +
      ' · ' +
      formatMoney(data.price) +
      ' charged to the team invoice.';
    showNotice(bought);
    view.focusBuy();
  } catch (err) {
    if (gen !== session.gen) return;
    view.lastMutation = ++session.mutationSeq;
    attempt.pending = false;
    if (isAbort(err)) return;
    if (err instanceof ApiError && err.status === 401) {
      reportError(err, 'action');
      return;
    }
    let message = err && err.message ? err.message : 'The purchase failed.';
    if (isUncertain(err)) {
      // We can't tell whether it went through: retry with the same purchaseId and amount.
      attempt.locked = true;
      message +=
        ' We could not confirm the purchase. Select "Retry purchase" to try again; it will not be charged twice.';
    } else {
      // Refused: nothing was bought, so the next attempt gets a new purchaseId.
      attempt.purchaseId = newRequestId();
    }
    if (buy === attempt) {
      input.readOnly = attempt.locked;
      setBuyPending(false);
      setBuyError(message);
      input.focus();
    }
    showError(message, 'action');
    if (isUncertain(err)) refresh();
  }
}

/** Wires the dialog once; `onUncertain` refreshes the page when an outcome is unknown. */
export function initMemberActions({ onUncertain }) {
  refresh = onUncertain;
  $('buy-form').addEventListener('submit', submitBuy);
  $('buy-cancel').addEventListener('click', () => closeBuyDialog());
  dialog().addEventListener('close', () => {
    const attempt = buy;
    if (attempt && !attempt.pending) buy = null;
    if (attempt) attempt.view.focusBuy();
  });
  // Escape while a purchase is being sent: let it finish (its answer still updates the row).
  dialog().addEventListener('cancel', (event) => {
    if (buy && buy.pending) event.preventDefault();
  });
}

/** Sign-out: forget the attempt and close the dialog. */
export function resetMemberActions() {
  buy = null;
  closeBuyDialog();
}

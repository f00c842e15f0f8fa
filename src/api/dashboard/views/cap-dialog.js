/*
 * Billing sets or removes a monthly pay-as-you-go cap (spec §15) in one dialog: a member's (PUT …/members/{userId}/payg
 * with only `monthlyCapMinor`, so the PAYG switch stays as it is) or the team's (PUT …/payg-cap). The amount is typed
 * in the currency's major units and sent as whole minor units (format.js#parseMajor: a decimal string, no floats).
 * A refused request (4xx) is shown in the dialog and the banner; an uncertain one (network, 5xx) asks for a refresh.
 * Setting a cap is idempotent, so saving again after an uncertain outcome is safe.
 */
import { api, ApiError, isAbort, isUncertain } from '../api.js';
import { $, setText, show } from '../dom.js';
import { currencyExponent, formatMajorInput, formatMoney, parseMajor } from '../format.js';
import { clearError, reportError, showError, showNotice } from '../notices.js';
import { session } from '../state.js';
import { loadAudit } from './audit.js';

/**
 * The open attempt: { who, current (money or null), currency, path, pending, applied(data, capMinor), focusBack() }.
 * `who` names the cap's subject in sentences ("max@example.com", "the team").
 */
let open = null;
let refresh = () => undefined;

const dialog = () => $('cap-dialog');

/** Opens the dialog for a cap; `target` as `open` above. */
export function openCapDialog(target) {
  open = { ...target, pending: false };
  const { currency, current } = open;
  setText($('cap-title'), target.title);
  setText($('cap-who'), target.description);
  setText($('cap-current'), current ? 'The cap now: ' + formatMoney(current) + ' a month.' : 'There is no cap now.');
  setText($('cap-label'), 'Cap per month, in ' + currency);
  const exponent = currencyExponent(currency);
  setText(
    $('cap-hint'),
    exponent === 0
      ? 'A whole amount of ' + currency + ', such as 2500.'
      : 'An amount with at most ' + exponent + ' decimal places, such as 25 or 25.' + '5'.padEnd(exponent, '0') + '.',
  );
  const input = $('cap-input');
  input.value = formatMajorInput(current);
  input.readOnly = false;
  setCapError('');
  show($('cap-clear'), !!current);
  setPending(false);
  const d = dialog();
  if (typeof d.showModal === 'function') {
    if (!d.open) d.showModal();
  } else {
    d.setAttribute('open', '');
  }
  input.focus();
  input.select();
}

function closeCapDialog() {
  const d = dialog();
  if (!d.open) return;
  if (typeof d.close === 'function') d.close();
  else d.removeAttribute('open');
}

function setCapError(message) {
  const el = $('cap-error');
  setText(el, message);
  show(el, !!message);
  const input = $('cap-input');
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

function setPending(pending) {
  $('cap-submit').disabled = pending;
  $('cap-clear').disabled = pending;
  setText($('cap-submit'), pending ? 'Saving…' : 'Save cap');
}

/** Sends the cap (whole minor units, or null to remove it). */
async function save(capMinor) {
  const attempt = open;
  if (!attempt || attempt.pending) return;
  attempt.pending = true;
  setCapError('');
  setPending(true);
  const gen = session.gen;
  attempt.started?.();
  try {
    const { data } = await api('PUT', attempt.path, attempt.bodyOf(capMinor));
    if (gen !== session.gen) return;
    attempt.pending = false;
    attempt.applied(data, capMinor);
    if (open === attempt) {
      open = null;
      closeCapDialog();
    }
    clearError('action');
    showNotice(
      capMinor === null
        ? 'Removed the monthly pay-as-you-go cap of ' + attempt.who + '.'
        : 'The monthly pay-as-you-go cap of ' +
            attempt.who +
            ' is now ' +
            formatMoney({ amountMinor: capMinor, currency: attempt.currency }) +
            '.',
    );
    attempt.focusBack();
    // The change is in the audit trail now: show it.
    loadAudit().catch((err) => reportError(err, 'refresh'));
  } catch (err) {
    if (gen !== session.gen) return;
    attempt.pending = false;
    attempt.failed?.();
    if (isAbort(err)) return;
    if (err instanceof ApiError && err.status === 401) {
      reportError(err, 'action');
      return;
    }
    let message = (err && err.message) || 'The cap could not be saved.';
    if (err instanceof ApiError && err.status >= 400 && err.status < 500)
      message = 'The cap was not changed: ' + message;
    if (isUncertain(err)) message += ' We could not confirm the change; saving again is safe.';
    if (open === attempt) {
      setPending(false);
      setCapError(message);
      $('cap-input').focus();
    }
    showError(message, 'action');
    if (isUncertain(err)) refresh();
  }
}

function submit(event) {
  event.preventDefault();
  if (!open || open.pending) return;
  const input = $('cap-input');
  if (!input.value.trim()) {
    setCapError('Enter an amount' + (open.current ? ', or choose "Remove cap".' : '.'));
    input.focus();
    return;
  }
  const parsed = parseMajor(input.value, open.currency);
  if (parsed.error) {
    setCapError(parsed.error);
    input.focus();
    return;
  }
  void save(parsed.minor);
}

/** Wires the dialog once; `onUncertain` refreshes the page when an outcome is unknown. */
export function initCapDialog({ onUncertain }) {
  refresh = onUncertain;
  $('cap-form').addEventListener('submit', submit);
  $('cap-clear').addEventListener('click', () => void save(null));
  $('cap-cancel').addEventListener('click', () => closeCapDialog());
  dialog().addEventListener('close', () => {
    const attempt = open;
    if (attempt && !attempt.pending) {
      open = null;
      attempt.focusBack();
    }
  });
  // Escape while a cap is being saved: let it finish (its answer still updates the page).
  dialog().addEventListener('cancel', (event) => {
    if (open && open.pending) event.preventDefault();
  });
}

/** Sign-out: forget the attempt and close the dialog. */
export function resetCapDialog() {
  open = null;
  closeCapDialog();
}

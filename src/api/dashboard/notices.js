/* The error banner and the polite notice region at the top of the page. */
import { ApiError, isAbort } from './api.js';
import { $, h, setText, show } from './dom.js';

/** Who shows the banner: 'refresh' (cleared by the next good refresh), 'action' or 'session' (until dismissed). */
let errorSource = null;
let noticeTimer = null;
let onUnauthorized = () => undefined;

/** What a 401 does (the token is no longer good): main.js ends the session. */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export function showError(message, source) {
  errorSource = source || 'action';
  setText($('error-text'), message);
  show($('error-banner'), true);
}

export function clearError(onlySource) {
  if (onlySource && errorSource !== onlySource) return;
  errorSource = null;
  show($('error-banner'), false);
  setText($('error-text'), '');
}

export function showNotice(message) {
  const region = $('notice');
  region.replaceChildren(h('p', { class: 'banner banner--ok', text: message }));
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => region.replaceChildren(), 8000);
}

export function clearNotice() {
  clearTimeout(noticeTimer);
  $('notice').replaceChildren();
}

/** Shows an API failure; a 401 means the token is no longer good, so the session ends. */
export function reportError(err, source) {
  if (isAbort(err)) return;
  if (err instanceof ApiError && err.status === 401) {
    onUnauthorized('Your session has ended: ' + err.message + '. Sign in again.');
    return;
  }
  showError(err && err.message ? err.message : 'Something went wrong. Try again.', source);
}

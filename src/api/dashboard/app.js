/*
 * AI credits — resource usage dashboard and AI credit details.
 *
 * Plain ES2020, no framework and no build step. Served at /dashboard/app.js; talks to the same-origin API
 * (spec §12) with the member's bearer token, which is kept in sessionStorage (this tab only).
 *
 * Credits arrive as decimal strings ("12.5"). All arithmetic on them is done on BigInt millicredits
 * (split on ".", pad to 3 digits); floats are used only for the CSS width of a progress bar.
 * Money arrives as integer minor units and is formatted with string operations (2 decimals).
 */
(function () {
  'use strict';

  const TOKEN_KEY = 'aiCredits.dashboard.token';
  const REFRESH_MS = 10000;
  /** The server's credits grammar (workflows/domain/credits.ts): no sign, no leading zeros, ≤ 3 decimals. */
  const CREDIT_RE = /^(0|[1-9][0-9]*)(?:\.([0-9]{1,3}))?$/;
  /** What the server accepts in a bearer token (src/api/auth.ts). */
  const TOKEN_RE = /^[\x21-\x7e]{1,512}$/;

  // ===================================================================================================
  // Pure helpers (also exported for Node when loaded as a CommonJS module, for unit checks).
  // ===================================================================================================

  /** Decimal credits string → BigInt millicredits, or null when it isn't a well-formed amount. */
  function toMilli(value) {
    if (typeof value !== 'string') return null;
    const m = CREDIT_RE.exec(value.trim());
    if (!m) return null;
    return BigInt(m[1]) * 1000n + BigInt((m[2] || '').padEnd(3, '0'));
  }

  /** BigInt millicredits → shortest decimal string ("12.5"). */
  function formatMilli(milli) {
    const negative = milli < 0n;
    const abs = negative ? -milli : milli;
    const frac = (abs % 1000n).toString().padStart(3, '0').replace(/0+$/, '');
    return (negative ? '-' : '') + (abs / 1000n).toString() + (frac ? '.' + frac : '');
  }

  /**
   * Usage of a period's credits: used against total = allowance + purchased (PAYG excluded, as the server's
   * `used` is). `permille` is floored so a bar never claims a threshold that was not reached; `level` uses
   * the exact comparisons the server uses for its 75% and 100% notifications.
   */
  function usageOf(balance) {
    const used = toMilli(balance && balance.used);
    const allowance = toMilli(balance && balance.allowance);
    const purchased = toMilli(balance && balance.purchased);
    if (used === null || allowance === null || purchased === null) return null;
    const total = allowance + purchased;
    let permille;
    if (total === 0n) permille = used > 0n ? 1000 : 0;
    else {
      const p = (used * 1000n) / total;
      permille = Number(p > 1000n ? 1000n : p);
    }
    let level = 'ok';
    if (total === 0n || used >= total) level = 'full';
    else if (used * 4n >= total * 3n) level = 'warn';
    return { used, total, totalText: formatMilli(total), permille, level };
  }

  /** 31 → "3.1%", 750 → "75%". */
  function formatPermille(permille) {
    const whole = Math.floor(permille / 10);
    const tenth = permille % 10;
    return tenth === 0 ? whole + '%' : whole + '.' + tenth + '%';
  }

  const currencyAffixCache = new Map();
  /** Where the currency sign goes for a currency code ("$" before, …), from Intl; falls back to the code. */
  function currencyAffixes(currency) {
    if (currencyAffixCache.has(currency)) return currencyAffixCache.get(currency);
    let affixes = { prefix: '', suffix: currency ? '\u00a0' + currency : '' };
    try {
      const parts = new Intl.NumberFormat('en-US', { style: 'currency', currency: currency }).formatToParts(0);
      const first = parts.findIndex((p) => p.type === 'integer');
      const last =
        parts.length - 1 - [...parts].reverse().findIndex((p) => p.type === 'integer' || p.type === 'fraction');
      affixes = {
        prefix: parts
          .slice(0, first)
          .map((p) => p.value)
          .join(''),
        suffix: parts
          .slice(last + 1)
          .map((p) => p.value)
          .join(''),
      };
    } catch (_) {
      /* unknown currency code: keep the code as a suffix */
    }
    currencyAffixCache.set(currency, affixes);
    return affixes;
  }

  /** { amountMinor: 1234, currency: "USD" } → "$12.34" (2 decimals, string arithmetic only). */
  function formatMoney(money) {
    if (!money || !Number.isSafeInteger(money.amountMinor)) return '—';
    const negative = money.amountMinor < 0;
    const digits = String(Math.abs(money.amountMinor)).padStart(3, '0');
    const whole = digits.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    const { prefix, suffix } = currencyAffixes(typeof money.currency === 'string' ? money.currency : '');
    return (negative ? '-' : '') + prefix + whole + '.' + digits.slice(-2) + suffix;
  }

  const DATE_FORMAT = new Intl.DateTimeFormat(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    timeZone: 'UTC',
  });
  const DATE_TIME_FORMAT = new Intl.DateTimeFormat(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
  const TIME_FORMAT = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

  /** ISO instant → a UTC calendar date (billing dates are UTC days). */
  function formatDate(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? String(iso) : DATE_FORMAT.format(d);
  }
  function formatDateTime(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? String(iso) : DATE_TIME_FORMAT.format(d);
  }

  /** A v4 UUID; crypto.randomUUID needs a secure context, getRandomValues does not. */
  function newPurchaseId() {
    const c = globalThis.crypto;
    if (c && typeof c.randomUUID === 'function') {
      try {
        return c.randomUUID();
      } catch (_) {
        /* fall through */
      }
    }
    const b = c.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  const ROLE_LABELS = { member: 'Member', admin: 'Admin', billing: 'Billing' };
  const roleLabel = (r) => ROLE_LABELS[r] || String(r);

  const NOTICE_LABELS = {
    member_75: '75% reached',
    member_100: '100% reached',
    member_exceeded: 'limit exceeded (PAYG)',
  };
  const ALERT_LABELS = { member_75: '75% used', member_100: '100% used', member_exceeded: 'Pay-as-you-go' };

  const helpers = { toMilli, formatMilli, usageOf, formatPermille, formatMoney, formatDate, newPurchaseId };
  if (typeof module === 'object' && module && module.exports) module.exports = helpers;
  if (typeof document === 'undefined') return;

  // ===================================================================================================
  // DOM helpers
  // ===================================================================================================

  const $ = (id) => document.getElementById(id);

  /** Tiny element builder: h('span', { class: 'x', dataset: { testid: 'y' } }, 'text', child). Text only, never HTML. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = v;
        else if (k === 'dataset') Object.assign(el.dataset, v);
        else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const c of children) {
      if (c === undefined || c === null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function setText(el, text) {
    if (el.textContent !== text) el.textContent = text;
  }

  function show(el, visible) {
    if (el.hidden === !!visible) el.hidden = !visible;
  }

  /** Prefix for element ids derived from a user id (ids are [A-Za-z0-9_.-], safe in an id attribute). */
  const domId = (userId, part) => 'm-' + userId + '-' + part;

  // ===================================================================================================
  // State
  // ===================================================================================================

  const state = {
    token: null,
    /** { teamId, userId, roles } from GET /v1/me */
    me: null,
    /** Bumped at every sign-in/sign-out so late answers from an old session are dropped. */
    gen: 0,
    abort: new AbortController(),
    inFlight: 0,
    refreshing: false,
    timer: null,
    lastUpdated: 0,
    /** Bumped whenever a mutation starts or ends; a refresh started earlier won't overwrite that row. */
    mutationSeq: 0,
    /** userId → member view (row or card) */
    views: new Map(),
    plan: null,
    errorSource: null,
    alertsKey: null,
    /** The open buy-credits attempt. */
    buy: null,
  };

  const isStaff = (me) => !!me && (me.roles.includes('admin') || me.roles.includes('billing'));
  const isBilling = (me) => !!me && me.roles.includes('billing');

  function readStoredToken() {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch (_) {
      return null;
    }
  }
  function storeToken(token) {
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
    } catch (_) {
      /* storage unavailable: the session lasts until reload */
    }
  }
  function clearStoredToken() {
    try {
      sessionStorage.removeItem(TOKEN_KEY);
    } catch (_) {
      /* ignore */
    }
  }

  // ===================================================================================================
  // API
  // ===================================================================================================

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.name = 'ApiError';
      this.status = status;
      this.code = code;
    }
  }

  const isAbort = (err) => !!err && err.name === 'AbortError';
  /** The request may have been applied (network failure, timeout, server error): retry with the same key. */
  const isUncertain = (err) => err instanceof ApiError && (err.status === 0 || err.status >= 500);

  async function api(method, path, body) {
    const headers = { Accept: 'application/json', Authorization: 'Bearer ' + state.token };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    state.inFlight += 1;
    try {
      let res;
      try {
        res = await fetch(path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          credentials: 'same-origin',
          cache: 'no-store',
          signal: state.abort.signal,
        });
      } catch (err) {
        if (isAbort(err)) throw err;
        throw new ApiError(
          0,
          'network',
          'Could not reach the AI credits service. Check your connection and try again.',
        );
      }
      let data = null;
      const text = await res.text();
      if (text) {
        try {
          data = JSON.parse(text);
        } catch (_) {
          data = null;
        }
      }
      if (!res.ok) {
        const e = data && data.error;
        const message =
          e && typeof e.message === 'string' && e.message
            ? e.message
            : 'The request failed (HTTP ' + res.status + '). Try again.';
        throw new ApiError(res.status, (e && e.code) || 'http_' + res.status, message);
      }
      if (data === null) throw new ApiError(res.status, 'bad_response', 'The service sent an unreadable answer.');
      return { status: res.status, data };
    } finally {
      state.inFlight -= 1;
    }
  }

  const enc = encodeURIComponent;
  const teamPath = (me) => '/v1/teams/' + enc(me.teamId);
  const memberPath = (me, userId) => teamPath(me) + '/members/' + enc(userId);

  function normalizeMe(data) {
    if (!data || typeof data.teamId !== 'string' || typeof data.userId !== 'string') {
      throw new ApiError(200, 'bad_response', 'The service did not say who is signed in.');
    }
    return { teamId: data.teamId, userId: data.userId, roles: Array.isArray(data.roles) ? data.roles.map(String) : [] };
  }

  // ===================================================================================================
  // Banners
  // ===================================================================================================

  /** source: 'refresh' (cleared by the next good refresh), 'action' or 'session' (stay until dismissed). */
  function showError(message, source) {
    state.errorSource = source || 'action';
    setText($('error-text'), message);
    show($('error-banner'), true);
  }
  function clearError(onlySource) {
    if (onlySource && state.errorSource !== onlySource) return;
    state.errorSource = null;
    show($('error-banner'), false);
    setText($('error-text'), '');
  }

  let noticeTimer = null;
  function showNotice(message) {
    const region = $('notice');
    region.replaceChildren(h('p', { class: 'banner banner--ok', text: message }));
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => region.replaceChildren(), 8000);
  }
  function clearNotice() {
    clearTimeout(noticeTimer);
    $('notice').replaceChildren();
  }

  /** Shows an API failure; a 401 means the token is no longer good, so the session ends. */
  function reportError(err, source) {
    if (isAbort(err)) return;
    if (err instanceof ApiError && err.status === 401) {
      signOut('Your session has ended: ' + err.message + '. Sign in again.');
      return;
    }
    showError(err && err.message ? err.message : 'Something went wrong. Try again.', source);
  }

  // ===================================================================================================
  // Member views: a table row (Admin/Billing) or a card (plain member), updated in place on refresh
  // ===================================================================================================

  function createMemberView(userId, opts) {
    const layout = opts.layout; // 'row' | 'card'
    const canManage = !!opts.canManage;
    const view = { userId, layout, canManage, el: null, balance: null, member: null, pending: false, lastMutation: 0 };

    // --- parts ---
    const nameEl = h('span', { class: 'member__name' });
    const idEl = h('span', { class: 'member__id' });
    const rolesEl = h('span', { class: 'member__roles' });
    const badgesEl = h('span', { class: 'member__badges' });
    const periodEl = h('span', { class: 'member__period hint', hidden: true });

    const usedEl = h('span', { class: 'num', dataset: { testid: 'used-' + userId } });
    const totalEl = h('span', { class: 'num', dataset: { testid: 'total-' + userId } });
    const fillEl = h('span', { class: 'meter__fill' });
    const meterEl = h(
      'span',
      {
        class: 'meter',
        role: 'progressbar',
        'aria-valuemin': '0',
        'aria-valuemax': '100',
        dataset: { testid: 'meter-' + userId },
      },
      fillEl,
      h('span', { class: 'meter__mark meter__mark--75', 'aria-hidden': 'true' }),
      h('span', { class: 'meter__mark meter__mark--100', 'aria-hidden': 'true' }),
    );
    const pctEl = h('span', { class: 'usage__pct', dataset: { testid: 'pct-' + userId } });
    const usageEl = h(
      'div',
      { class: 'usage' },
      h(
        'span',
        { class: 'usage__text' },
        usedEl,
        h('span', { class: 'usage__sep' }, ' / '),
        totalEl,
        h('span', { class: 'unit' }, ' credits'),
      ),
      meterEl,
      h(
        'span',
        { class: 'usage__scale', 'aria-hidden': 'true' },
        h('span', { class: 'usage__tick75' }, '75%'),
        h('span', null, '100%'),
      ),
      pctEl,
    );

    const remainingEl = h('span', { class: 'num', dataset: { testid: 'remaining-' + userId } });
    const remainingWrap = h('span', { class: 'remaining' }, remainingEl, h('span', { class: 'unit' }, ' credits'));

    const paygStateEl = h('span', { class: 'payg__state', dataset: { testid: 'payg-state-' + userId } });
    const savingEl = h('span', { class: 'payg__saving hint', hidden: true }, 'Saving…');
    const paygHintId = domId(userId, 'payg-hint');
    const paygHintEl = h('span', { class: 'payg__hint hint', id: paygHintId, hidden: true });
    let toggleEl = null;
    let paygEl;
    if (canManage) {
      toggleEl = h('input', {
        type: 'checkbox',
        role: 'switch',
        class: 'switch',
        id: domId(userId, 'payg'),
        dataset: { testid: 'payg-toggle-' + userId },
        'aria-describedby': paygHintId,
      });
      toggleEl.addEventListener('change', () => onToggleChange(view));
      paygEl = h(
        'div',
        { class: 'payg' },
        h('span', { class: 'payg__control' }, toggleEl, paygStateEl, savingEl),
        paygHintEl,
      );
    } else {
      paygEl = h('div', { class: 'payg' }, h('span', { class: 'payg__control' }, paygStateEl), paygHintEl);
    }

    const paygCreditsEl = h('span', { class: 'num', dataset: { testid: 'payg-credits-' + userId } });
    const paygChargeEl = h('span', { class: 'num', dataset: { testid: 'payg-charge-' + userId } });
    const paygUsageEl = h(
      'div',
      { class: 'payg-usage' },
      h('span', null, paygCreditsEl, h('span', { class: 'unit' }, ' credits')),
      h('span', { class: 'payg-usage__charge' }, paygChargeEl, h('span', { class: 'unit' }, ' charged')),
    );

    let buyEl = null;
    if (canManage) {
      buyEl = h(
        'button',
        { type: 'button', class: 'button button--small', dataset: { testid: 'buy-' + userId } },
        'Buy credits',
      );
      buyEl.addEventListener('click', () => openBuy(view));
    }

    const memberEl = h(
      'span',
      { class: 'member' },
      h('span', { class: 'member__line' }, nameEl, badgesEl),
      h('span', { class: 'member__meta' }, idEl, rolesEl),
      periodEl,
    );

    // --- layout ---
    if (layout === 'row') {
      view.el = h(
        'tr',
        { class: 'members__row', role: 'row', dataset: { testid: 'member-row-' + userId } },
        h('th', { scope: 'row', role: 'rowheader', class: 'cell cell--member' }, memberEl),
        h('td', { role: 'cell', class: 'cell cell--usage', dataset: { label: 'Used / total' } }, usageEl),
        h('td', { role: 'cell', class: 'cell cell--remaining', dataset: { label: 'Remaining' } }, remainingWrap),
        h('td', { role: 'cell', class: 'cell cell--payg', dataset: { label: 'Pay-as-you-go' } }, paygEl),
        h('td', { role: 'cell', class: 'cell cell--payg-usage', dataset: { label: 'PAYG usage' } }, paygUsageEl),
        h(
          'td',
          {
            role: 'cell',
            class: 'cell cell--actions' + (canManage ? '' : ' cell--empty'),
            dataset: { label: canManage ? 'Actions' : '' },
          },
          buyEl,
        ),
      );
    } else {
      const item = (label, content) => h('div', { class: 'card__item' }, h('dt', null, label), h('dd', null, content));
      view.noticesEl = h('span', { dataset: { testid: 'notices-' + userId } });
      view.planEl = h('span', { dataset: { testid: 'plan-' + userId } });
      view.el = h(
        'article',
        { class: 'card', dataset: { testid: 'member-row-' + userId }, 'aria-labelledby': domId(userId, 'card-title') },
        h(
          'header',
          { class: 'card__head' },
          h('h3', { id: domId(userId, 'card-title'), class: 'card__title' }, memberEl),
        ),
        h(
          'dl',
          { class: 'card__grid' },
          item('Used / total', usageEl),
          item('Remaining', remainingWrap),
          item('Pay-as-you-go', paygEl),
          item('PAYG usage', paygUsageEl),
          item('Plan', view.planEl),
          item('Notices this period', view.noticesEl),
        ),
      );
    }

    // --- updates ---
    let pausedBadge = null;
    view.setMember = function (m) {
      view.member = m;
      const name = (m && m.email) || userId;
      setText(nameEl, name);
      setText(idEl, m && m.email ? userId : '');
      const roles = m && Array.isArray(m.roles) ? m.roles : [];
      const rolesText = roles.map(roleLabel).join(', ');
      if (rolesEl.dataset.value !== rolesText) {
        rolesEl.dataset.value = rolesText;
        rolesEl.replaceChildren(...roles.map((r) => h('span', { class: 'tag tag--role' }, roleLabel(r))));
      }
      meterEl.setAttribute('aria-label', 'Credits used by ' + name);
      if (toggleEl) toggleEl.setAttribute('aria-label', 'Pay-as-you-go for ' + name);
      if (buyEl) buyEl.setAttribute('aria-label', 'Buy credits for ' + name);
    };

    view.displayName = () => (view.member && view.member.email) || userId;

    view.setBalance = function (b) {
      if (!b) return;
      view.balance = b;
      const usage = usageOf(b);
      setText(usedEl, String(b.used));
      setText(remainingEl, String(b.remaining));
      if (usage) {
        setText(totalEl, usage.totalText);
        const pct = formatPermille(usage.permille);
        setText(pctEl, pct + ' used');
        fillEl.style.width = usage.permille / 10 + '%';
        meterEl.setAttribute('aria-valuenow', String(Math.floor(usage.permille / 10)));
        meterEl.setAttribute('aria-valuetext', b.used + ' of ' + usage.totalText + ' credits used (' + pct + ')');
        meterEl.dataset.level = usage.level;
        view.el.dataset.level = usage.level;
      } else {
        setText(totalEl, '?');
        setText(pctEl, '');
        fillEl.style.width = '0%';
        meterEl.removeAttribute('aria-valuenow');
        meterEl.setAttribute('aria-valuetext', 'unknown');
      }

      // PAYG
      setText(paygStateEl, b.paygEnabled ? 'On' : 'Off');
      paygStateEl.dataset.state = b.paygEnabled ? 'on' : 'off';
      let hint = '';
      if (!b.paygAvailable) {
        hint = 'Not available on the ' + (state.plan || 'current') + ' plan: usage pauses when credits run out.';
      } else if (!canManage && view.layout === 'card') {
        hint = 'Only a Billing admin can change this.';
      }
      setText(paygHintEl, hint);
      show(paygHintEl, !!hint);
      if (toggleEl) {
        if (!view.pending) toggleEl.checked = !!b.paygEnabled;
        toggleEl.disabled = !b.paygAvailable;
        toggleEl.title = b.paygAvailable ? '' : 'Pay-as-you-go is not available on this plan';
      }
      setText(paygCreditsEl, String(b.paygCredits));
      setText(paygChargeEl, formatMoney(b.paygCharge));
      const overage = toMilli(b.paygCredits);
      view.el.classList.toggle('has-payg', overage !== null && overage > 0n);

      // Paused badge: in the DOM only while paused.
      if (b.paused) {
        if (!pausedBadge) {
          pausedBadge = h('span', { class: 'badge badge--paused', dataset: { testid: 'paused-' + userId } }, 'Paused');
          badgesEl.append(pausedBadge);
        }
        pausedBadge.title =
          'Agent Mode is paused: no credits left' +
          (b.paygAvailable ? ' and pay-as-you-go is off' : '') +
          '. Credits renew on ' +
          formatDate(b.periodEnd) +
          '.';
      } else if (pausedBadge) {
        pausedBadge.remove();
        pausedBadge = null;
      }
      view.el.classList.toggle('is-paused', !!b.paused);

      // Period (shown per member only when members' periods differ).
      setText(periodEl, 'Period ' + formatDate(b.periodStart) + ' – ' + formatDate(b.periodEnd));
    };

    view.setPeriodVisible = (visible) => show(periodEl, visible);

    view.setPending = function (pending, value) {
      view.pending = pending;
      view.pendingValue = pending ? value : undefined;
      view.el.classList.toggle('is-saving', pending);
      show(savingEl, pending);
      if (toggleEl) {
        if (pending) toggleEl.setAttribute('aria-busy', 'true');
        else toggleEl.removeAttribute('aria-busy');
      }
    };

    view.focusBuy = () => buyEl && buyEl.focus();
    view.toggleEl = toggleEl;
    return view;
  }

  function periodText(b) {
    return (
      'Billing period ' +
      formatDate(b.periodStart) +
      ' – ' +
      formatDate(b.periodEnd) +
      ' (UTC) · credits renew ' +
      formatDate(b.periodEnd)
    );
  }

  function periodElement(b) {
    return [
      'Billing period ',
      h('time', { datetime: b.periodStart, title: b.periodStart }, formatDate(b.periodStart)),
      ' – ',
      h('time', { datetime: b.periodEnd, title: b.periodEnd }, formatDate(b.periodEnd)),
      ' (UTC) · credits renew on ',
      h('time', { datetime: b.periodEnd }, formatDate(b.periodEnd)),
    ];
  }

  function setPeriod(el, b) {
    const key = b ? periodText(b) : '';
    if (el.dataset.key === key) return;
    el.dataset.key = key;
    if (b) el.replaceChildren(...periodElement(b));
    else el.replaceChildren();
  }

  // ===================================================================================================
  // Rendering the data
  // ===================================================================================================

  function clearViews() {
    for (const v of state.views.values()) v.el.remove();
    state.views.clear();
  }

  function renderTeam(data, startSeq) {
    const me = state.me;
    state.plan = typeof data.plan === 'string' ? data.plan : null;
    const members = Array.isArray(data.members) ? data.members.filter((m) => m && typeof m.userId === 'string') : [];
    const canManage = isBilling(me);
    const body = $('members-body');

    show($('team-loading'), false);
    show($('team-empty'), members.length === 0);
    show($('team-table-wrap'), members.length > 0);
    show($('team-legend'), members.length > 0);
    $('members-table').classList.toggle('members--manage', canManage);

    const seen = new Set(members.map((m) => m.userId));
    for (const [userId, view] of state.views) {
      if (!seen.has(userId) || view.layout !== 'row') {
        view.el.remove();
        state.views.delete(userId);
      }
    }
    members.forEach((m, index) => {
      let view = state.views.get(m.userId);
      if (!view || view.layout !== 'row' || view.canManage !== canManage) {
        if (view) view.el.remove();
        view = createMemberView(m.userId, { layout: 'row', canManage });
        state.views.set(m.userId, view);
      }
      view.setMember(m);
      // A toggle or purchase that started or finished after this refresh began is newer than this answer.
      if (!view.pending && view.lastMutation <= startSeq) view.setBalance(m.balance);
      if (body.children[index] !== view.el) body.insertBefore(view.el, body.children[index] || null);
    });

    // Period: one line for the team, or per member when they differ (e.g. around a renewal).
    const balances = [...state.views.values()].map((v) => v.balance).filter(Boolean);
    const periods = new Set(balances.map((b) => b.periodStart + '|' + b.periodEnd));
    const varies = periods.size > 1;
    for (const v of state.views.values()) v.setPeriodVisible(varies);
    if (varies) {
      const el = $('team-period');
      el.dataset.key = 'varies';
      el.replaceChildren('Billing periods differ between members; see each member.');
    } else {
      setPeriod($('team-period'), balances[0]);
    }

    // Summary line.
    const paused = balances.filter((b) => b.paused).length;
    let chargeMinor = 0;
    let currency = null;
    let mixed = false;
    for (const b of balances) {
      const c = b.paygCharge;
      if (!c || !Number.isSafeInteger(c.amountMinor)) continue;
      if (currency !== null && c.currency !== currency) mixed = true;
      currency = c.currency;
      chargeMinor += c.amountMinor;
    }
    const parts = [];
    if (state.plan) parts.push(capitalize(state.plan) + ' plan');
    parts.push(members.length + (members.length === 1 ? ' member' : ' members'));
    if (members.length) parts.push(paused + ' paused');
    if (currency !== null && !mixed)
      parts.push('PAYG charges this period ' + formatMoney({ amountMinor: chargeMinor, currency }));
    setText($('team-summary'), parts.join(' · '));
  }

  function renderSelf(data, startSeq) {
    const me = state.me;
    state.plan = typeof data.plan === 'string' ? data.plan : null;
    show($('self-loading'), false);
    let view = state.views.get(me.userId);
    if (!view || view.layout !== 'card') {
      clearViews();
      view = createMemberView(me.userId, { layout: 'card', canManage: false });
      state.views.set(me.userId, view);
      $('self-card').replaceChildren(view.el);
    }
    view.setMember({ userId: me.userId, email: '', roles: me.roles });
    if (!view.pending && view.lastMutation <= startSeq) view.setBalance(data.balance);
    setPeriod($('self-period'), data.balance);
    setText(view.planEl, state.plan ? capitalize(state.plan) : '—');
    const sent = Array.isArray(data.notificationsSent) ? data.notificationsSent : [];
    setText(view.noticesEl, sent.length ? sent.map((k) => NOTICE_LABELS[k] || k).join(', ') : 'None');
  }

  function renderAlerts(data) {
    show($('alerts-loading'), false);
    const alerts = Array.isArray(data.alerts) ? data.alerts.slice() : [];
    // Newest first (the API already sends them so; ISO strings sort as instants).
    alerts.sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)));
    const key = JSON.stringify(alerts);
    if (key === state.alertsKey) return;
    state.alertsKey = key;
    const list = $('alerts-list');
    list.replaceChildren(
      ...alerts.map((a) =>
        h(
          'li',
          {
            class: 'alert alert--' + String(a.kind).replace(/[^a-z0-9_-]/gi, ''),
            dataset: { testid: 'alert-' + a.id, kind: String(a.kind) },
          },
          h('span', { class: 'tag tag--alert' }, ALERT_LABELS[a.kind] || 'Notice'),
          h('p', { class: 'alert__message' }, String(a.message || '')),
          h('time', { class: 'alert__time hint', datetime: String(a.createdAt) }, formatDateTime(a.createdAt)),
        ),
      ),
    );
    show(list, alerts.length > 0);
    show($('alerts-empty'), alerts.length === 0);
  }

  function capitalize(s) {
    return s ? s.charAt(0).toUpperCase() + s.slice(1) : s;
  }

  // ===================================================================================================
  // Views: signed out / signed in
  // ===================================================================================================

  function configureDashboard() {
    const me = state.me;
    const staff = isStaff(me);
    const roles = me.roles.length ? me.roles.map(roleLabel).join(', ') : 'no roles';
    setText($('whoami'), me.userId + ' · team ' + me.teamId + ' · ' + roles);
    $('whoami').title = 'Signed in as ' + me.userId + ' in team ' + me.teamId;
    show($('team-section'), staff);
    show($('self-section'), !staff);
    setText(
      $('dash-subtitle'),
      staff ? 'AI credits of every member of your team, this billing period' : 'Your AI credits this billing period',
    );
    clearViews();
    state.alertsKey = null;
    $('self-card').replaceChildren();
    show($('team-loading'), true);
    show($('team-empty'), false);
    show($('team-table-wrap'), false);
    show($('team-legend'), false);
    setText($('team-summary'), '');
    setPeriod($('team-period'), null);
    setPeriod($('self-period'), null);
    show($('self-loading'), true);
    show($('alerts-loading'), true);
    $('alerts-list').replaceChildren();
    show($('alerts-list'), false);
    show($('alerts-empty'), false);
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

  function startTimer() {
    stopTimer();
    state.timer = setInterval(() => {
      // Auto-refresh: never pile up behind a request still in flight, and don't poll a hidden tab.
      if (!state.me || state.inFlight > 0 || state.refreshing || document.hidden) return;
      refresh();
    }, REFRESH_MS);
  }
  function stopTimer() {
    if (state.timer !== null) clearInterval(state.timer);
    state.timer = null;
  }

  async function signIn(token, restoring) {
    state.gen += 1;
    const gen = state.gen;
    state.abort.abort();
    state.abort = new AbortController();
    state.token = token;
    const button = $('sign-in');
    button.disabled = true;
    setText(button, 'Signing in…');
    try {
      const { data } = await api('GET', '/v1/me');
      if (gen !== state.gen) return;
      state.me = normalizeMe(data);
      storeToken(token);
      clearError();
      $('token-input').value = '';
      configureDashboard();
      showSignedIn();
      $('dash-title').focus();
      startTimer();
      await refresh({ skipMe: true });
    } catch (err) {
      if (isAbort(err) || gen !== state.gen) return;
      state.token = null;
      state.me = null;
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
      if (gen === state.gen) {
        button.disabled = false;
        setText(button, 'Sign in');
      }
    }
  }

  function signOut(message) {
    state.gen += 1;
    state.abort.abort();
    state.abort = new AbortController();
    stopTimer();
    clearStoredToken();
    state.token = null;
    state.me = null;
    state.refreshing = false;
    state.plan = null;
    state.lastUpdated = 0;
    state.buy = null;
    clearViews();
    closeDialog();
    $('self-card').replaceChildren();
    $('alerts-list').replaceChildren();
    state.alertsKey = null;
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

  // ===================================================================================================
  // Refresh
  // ===================================================================================================

  function setRefreshBusy(busy) {
    const button = $('refresh');
    button.setAttribute('aria-disabled', busy ? 'true' : 'false');
    button.classList.toggle('is-busy', busy);
    setText(button, busy ? 'Refreshing…' : 'Refresh');
    for (const id of ['team-section', 'self-section', 'alerts-section'])
      $(id).setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  async function refresh(opts) {
    if (!state.me || state.refreshing) return;
    const gen = state.gen;
    const startSeq = state.mutationSeq;
    state.refreshing = true;
    setRefreshBusy(true);
    try {
      if (!(opts && opts.skipMe)) {
        // Roles may have changed since sign-in (and a revoked token shows up here as a 401).
        const me = normalizeMe((await api('GET', '/v1/me')).data);
        if (gen !== state.gen) return;
        const changed =
          me.teamId !== state.me.teamId || me.userId !== state.me.userId || me.roles.join() !== state.me.roles.join();
        state.me = me;
        if (changed) configureDashboard();
      }
      const me = state.me;
      const staff = isStaff(me);
      const [main, alerts] = await Promise.allSettled([
        staff ? api('GET', teamPath(me) + '/usage') : api('GET', memberPath(me, me.userId) + '/credits'),
        api('GET', '/v1/me/alerts'),
      ]);
      if (gen !== state.gen) return;
      const failures = [];
      if (main.status === 'fulfilled') {
        if (staff) renderTeam(main.value.data, startSeq);
        else renderSelf(main.value.data, startSeq);
      } else {
        failures.push(main.reason);
        show($(staff ? 'team-loading' : 'self-loading'), false);
      }
      if (alerts.status === 'fulfilled') renderAlerts(alerts.value.data);
      else {
        failures.push(alerts.reason);
        show($('alerts-loading'), false);
      }
      const real = failures.filter((e) => !isAbort(e));
      const unauthorized = real.find((e) => e instanceof ApiError && e.status === 401);
      if (unauthorized) {
        reportError(unauthorized, 'refresh');
        return;
      }
      if (real.length) {
        const messages = [...new Set(real.map((e) => (e && e.message) || 'Something went wrong.'))];
        showError('Could not load the latest data: ' + messages.join(' '), 'refresh');
      } else {
        clearError('refresh');
      }
      if (main.status === 'fulfilled') {
        state.lastUpdated = Date.now();
        const now = new Date();
        $('last-updated').replaceChildren(
          'Updated ',
          h('time', { datetime: now.toISOString() }, TIME_FORMAT.format(now)),
        );
      }
    } catch (err) {
      if (gen !== state.gen) return;
      if (!isAbort(err)) reportError(err, 'refresh');
    } finally {
      if (gen === state.gen) {
        state.refreshing = false;
        setRefreshBusy(false);
      }
    }
  }

  // ===================================================================================================
  // PAYG toggle (Billing role)
  // ===================================================================================================

  async function onToggleChange(view) {
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
    const gen = state.gen;
    const name = view.displayName();
    view.setPending(true, enabled);
    view.lastMutation = ++state.mutationSeq;
    try {
      const { data } = await api('PUT', memberPath(state.me, view.userId) + '/payg', { enabled });
      if (gen !== state.gen) return;
      view.lastMutation = ++state.mutationSeq;
      view.setPending(false);
      view.setBalance(data.balance);
      clearError('action');
      const b = data.balance || {};
      let message = 'Pay-as-you-go turned ' + (b.paygEnabled ? 'on' : 'off') + ' for ' + name + '.';
      if (b.paused) message += ' Agent Mode is paused for them until credits renew.';
      showNotice(message);
    } catch (err) {
      if (gen !== state.gen) return;
      view.lastMutation = ++state.mutationSeq;
      view.setPending(false);
      input.checked = !!(view.balance && view.balance.paygEnabled);
      reportError(err, 'action');
      // The outcome of a failed request may be unknown: fetch the truth.
      if (isUncertain(err)) refresh();
    }
  }

  // ===================================================================================================
  // Buy credits (Billing role)
  // ===================================================================================================

  const dialog = () => $('buy-dialog');

  function openBuy(view) {
    // One purchaseId per attempt: kept for every retry of this attempt, so a double click or a retry after a
    // lost answer cannot buy twice.
    state.buy = {
      userId: view.userId,
      view,
      name: view.displayName(),
      purchaseId: newPurchaseId(),
      pending: false,
      /** After an uncertain outcome the amount is locked: a retry must repeat the same request. */
      locked: false,
    };
    setText($('buy-member'), state.buy.name);
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

  function closeDialog() {
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
    setText(button, pending ? 'Buying…' : state.buy && state.buy.locked ? 'Retry purchase' : 'Buy credits');
  }

  async function submitBuy(event) {
    event.preventDefault();
    const attempt = state.buy;
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
    const gen = state.gen;
    const view = attempt.view;
    view.lastMutation = ++state.mutationSeq;
    try {
      const { status, data } = await api('POST', memberPath(state.me, attempt.userId) + '/credit-purchases', {
        purchaseId: attempt.purchaseId,
        credits,
      });
      if (gen !== state.gen) return;
      view.lastMutation = ++state.mutationSeq;
      attempt.pending = false;
      if (state.views.get(attempt.userId) === view) view.setBalance(data.balance);
      if (state.buy === attempt) {
        state.buy = null;
        closeDialog();
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
      if (gen !== state.gen) return;
      view.lastMutation = ++state.mutationSeq;
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
        attempt.purchaseId = newPurchaseId();
      }
      if (state.buy === attempt) {
        input.readOnly = attempt.locked;
        setBuyPending(false);
        setBuyError(message);
        input.focus();
      }
      showError(message, 'action');
      if (isUncertain(err)) refresh();
    }
  }

  // ===================================================================================================
  // Wiring
  // ===================================================================================================

  function init() {
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
      signIn(token, false);
    });

    $('sign-out').addEventListener('click', () => signOut());
    $('error-dismiss').addEventListener('click', () => clearError());
    $('refresh').addEventListener('click', () => {
      if (state.refreshing) return;
      refresh();
    });

    $('buy-form').addEventListener('submit', submitBuy);
    $('buy-cancel').addEventListener('click', () => closeDialog());
    dialog().addEventListener('close', () => {
      const attempt = state.buy;
      if (attempt && !attempt.pending) state.buy = null;
      if (attempt) attempt.view.focusBuy();
    });
    // Escape while a purchase is being sent: let it finish (its answer still updates the row).
    dialog().addEventListener('cancel', (event) => {
      if (state.buy && state.buy.pending) event.preventDefault();
    });

    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && state.me && !state.refreshing && Date.now() - state.lastUpdated >= REFRESH_MS) refresh();
    });

    const stored = readStoredToken();
    if (stored && TOKEN_RE.test(stored)) signIn(stored, true);
    else {
      if (stored) clearStoredToken();
      showSignedOut();
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();

/*
 * One member's figures, as a row of the usage table (Admin, Billing) or as a card (a member's own view and the
 * member details), updated in place on every refresh so focus and a toggle being saved survive it.
 */
import { domId, h, setText, show } from '../dom.js';
import { formatDate, formatMilli, formatMoney, formatPermille, roleLabel, toMilli, usageOf } from '../format.js';
import { session } from '../state.js';

/**
 * opts: { layout: 'row' | 'card', canManage, testIdPrefix?, onTogglePayg?(view), onBuy?(view), onEditCap?(view),
 * onDetails?(view) }. Everyone who sees the member sees their PAYG cap; `canManage` (Billing) may change it.
 * `testIdPrefix` keeps test ids unique when the same member is shown twice (a row and the details card).
 */
export function createMemberView(userId, opts) {
  const layout = opts.layout;
  const canManage = !!opts.canManage;
  const prefix = opts.testIdPrefix || '';
  const tid = (name) => prefix + name + '-' + userId;
  const did = (part) => domId(userId, prefix + part);
  const view = { userId, layout, canManage, el: null, balance: null, member: null, pending: false, lastMutation: 0 };

  // --- parts ---
  const nameEl = h('span', { class: 'member__name' });
  const idEl = h('span', { class: 'member__id' });
  const rolesEl = h('span', { class: 'member__roles' });
  const badgesEl = h('span', { class: 'member__badges' });
  const periodEl = h('span', { class: 'member__period hint', hidden: true });

  const usedEl = h('span', { class: 'num', dataset: { testid: tid('used') } });
  const totalEl = h('span', { class: 'num', dataset: { testid: tid('total') } });
  const fillEl = h('span', { class: 'meter__fill' });
  const meterEl = h(
    'span',
    {
      class: 'meter',
      role: 'progressbar',
      'aria-valuemin': '0',
      'aria-valuemax': '100',
      dataset: { testid: tid('meter') },
    },
    fillEl,
    h('span', { class: 'meter__mark meter__mark--75', 'aria-hidden': 'true' }),
    h('span', { class: 'meter__mark meter__mark--100', 'aria-hidden': 'true' }),
  );
  const pctEl = h('span', { class: 'usage__pct', dataset: { testid: tid('pct') } });
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

  const remainingEl = h('span', { class: 'num', dataset: { testid: tid('remaining') } });
  // Credits set aside for agent actions still running (spec §14): already out of Remaining, not yet charged.
  const heldEl = h('span', {
    class: 'held hint',
    dataset: { testid: tid('held') },
    title: 'Set aside for agent actions still running: not in Remaining, and charged only for what they use',
    hidden: true,
  });
  const remainingWrap = h(
    'span',
    { class: 'remaining' },
    h('span', null, remainingEl, h('span', { class: 'unit' }, ' credits')),
    heldEl,
  );

  const paygStateEl = h('span', { class: 'payg__state', dataset: { testid: tid('payg-state') } });
  const savingEl = h('span', { class: 'payg__saving hint', hidden: true }, 'Saving…');
  const paygHintId = did('payg-hint');
  const paygHintEl = h('span', { class: 'payg__hint hint', id: paygHintId, hidden: true });
  // The member's monthly PAYG cap (spec §15): shown to all who see the member, changed by Billing (a dialog).
  const capEl = h('span', { class: 'payg__cap-text', dataset: { testid: tid('payg-cap') } });
  let capEditEl = null;
  if (canManage) {
    capEditEl = h(
      'button',
      { type: 'button', class: 'button button--link', dataset: { testid: tid('cap-edit') } },
      'Set cap',
    );
    capEditEl.addEventListener('click', () => opts.onEditCap(view));
  }
  const capLineEl = h('span', { class: 'payg__cap hint' }, capEl, capEditEl);
  let toggleEl = null;
  let paygEl;
  if (canManage) {
    toggleEl = h('input', {
      type: 'checkbox',
      role: 'switch',
      class: 'switch',
      id: did('payg'),
      dataset: { testid: tid('payg-toggle') },
      'aria-describedby': paygHintId,
    });
    toggleEl.addEventListener('change', () => opts.onTogglePayg(view));
    paygEl = h(
      'div',
      { class: 'payg' },
      h('span', { class: 'payg__control' }, toggleEl, paygStateEl, savingEl),
      capLineEl,
      paygHintEl,
    );
  } else {
    paygEl = h('div', { class: 'payg' }, h('span', { class: 'payg__control' }, paygStateEl), capLineEl, paygHintEl);
  }

  const paygCreditsEl = h('span', { class: 'num', dataset: { testid: tid('payg-credits') } });
  const paygChargeEl = h('span', { class: 'num', dataset: { testid: tid('payg-charge') } });
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
      { type: 'button', class: 'button button--small', dataset: { testid: tid('buy') } },
      'Buy credits',
    );
    buyEl.addEventListener('click', () => opts.onBuy(view));
  }

  let detailsEl = null;
  if (opts.onDetails) {
    detailsEl = h(
      'button',
      { type: 'button', class: 'button button--link', dataset: { testid: tid('details') }, 'aria-expanded': 'false' },
      'Usage per day',
    );
    detailsEl.addEventListener('click', () => opts.onDetails(view));
  }

  const memberEl = h(
    'span',
    { class: 'member' },
    h('span', { class: 'member__line' }, nameEl, badgesEl),
    h('span', { class: 'member__meta' }, idEl, rolesEl),
    periodEl,
    detailsEl,
  );

  // --- layout ---
  if (layout === 'row') {
    view.el = h(
      'tr',
      { class: 'members__row', role: 'row', dataset: { testid: tid('member-row') } },
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
    view.noticesEl = h('span', { dataset: { testid: tid('notices') } });
    view.planEl = h('span', { dataset: { testid: tid('plan') } });
    view.el = h(
      'article',
      { class: 'card', dataset: { testid: tid('member-row') }, 'aria-labelledby': did('card-title') },
      h('header', { class: 'card__head' }, h('h3', { id: did('card-title'), class: 'card__title' }, memberEl)),
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
    if (capEditEl) capEditEl.setAttribute('aria-label', 'Monthly pay-as-you-go cap for ' + name);
    if (detailsEl) detailsEl.setAttribute('aria-label', 'Usage per day of ' + name);
  };

  view.displayName = () => (view.member && view.member.email) || userId;

  view.setBalance = function (b) {
    if (!b) return;
    view.balance = b;
    const usage = usageOf(b);
    setText(usedEl, String(b.used));
    setText(remainingEl, String(b.remaining));
    const held = toMilli(b.held);
    setText(heldEl, held !== null && held > 0n ? formatMilli(held) + ' held for running actions' : '');
    show(heldEl, held !== null && held > 0n);
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
      hint = 'Not available on the ' + (session.plan || 'current') + ' plan: usage pauses when credits run out.';
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
    const cap = b.paygCap && Number.isSafeInteger(b.paygCap.amountMinor) ? b.paygCap : null;
    setText(capEl, cap ? 'Cap ' + formatMoney(cap) + ' a month' : 'No monthly cap');
    capEl.dataset.capMinor = cap ? String(cap.amountMinor) : '';
    show(capLineEl, !!b.paygAvailable);
    if (capEditEl) setText(capEditEl, cap ? 'Change cap' : 'Set cap');
    setText(paygCreditsEl, String(b.paygCredits));
    setText(paygChargeEl, formatMoney(b.paygCharge));
    const overage = toMilli(b.paygCredits);
    view.el.classList.toggle('has-payg', overage !== null && overage > 0n);

    // Paused badge: in the DOM only while paused.
    if (b.paused) {
      if (!pausedBadge) {
        pausedBadge = h('span', { class: 'badge badge--paused', dataset: { testid: tid('paused') } }, 'Paused');
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
  view.focusCap = () => capEditEl && capEditEl.focus();
  view.focusDetails = () => detailsEl && detailsEl.focus();
  view.setExpanded = (open) => detailsEl && detailsEl.setAttribute('aria-expanded', open ? 'true' : 'false');
  view.toggleEl = toggleEl;
  return view;
}

function periodText(b) {
  return 'Billing period ' + formatDate(b.periodStart) + ' – ' + formatDate(b.periodEnd) + ' (UTC)';
}

/** "Billing period Dec 1, 2026 – Jan 1, 2027 (UTC) · credits renew on Jan 1, 2027", with <time> elements. */
export function setPeriod(el, b) {
  const key = b ? periodText(b) : '';
  if (el.dataset.key === key) return;
  el.dataset.key = key;
  if (!b) return el.replaceChildren();
  el.replaceChildren(
    'Billing period ',
    h('time', { datetime: b.periodStart, title: b.periodStart }, formatDate(b.periodStart)),
    ' – ',
    h('time', { datetime: b.periodEnd, title: b.periodEnd }, formatDate(b.periodEnd)),
    ' (UTC) · credits renew on ',
    h('time', { datetime: b.periodEnd }, formatDate(b.periodEnd)),
  );
}

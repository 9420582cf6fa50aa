// Confirmation dialog (#confirm-dialog) and toast (#toast).
// Every control action goes through ask(): an e-stop or a lane closure is never one click away.

import { t } from './i18n.js';

const $ = (id) => document.getElementById(id);

/**
 * Ask the controller to confirm an action.
 * @param {{title: string, text?: string, ok: string, danger?: boolean,
 *          reason?: 'required'|'optional'|'none', number?: {value: number, min: number, max: number}}} o
 * @returns {Promise<{reason: string, number: number|null}|null>} null when cancelled
 */
export function ask(o) {
  const dlg = $('confirm-dialog');
  $('confirm-title').textContent = o.title;
  $('confirm-text').textContent = o.text ?? '';
  $('confirm-text').hidden = !o.text;
  const ok = $('confirm-ok');
  ok.textContent = o.ok;
  ok.classList.toggle('btn-danger', !!o.danger);
  ok.classList.toggle('btn-primary', !o.danger);
  dlg.classList.toggle('danger', !!o.danger);
  const mode = o.reason ?? 'optional';
  const reason = $('confirm-reason');
  reason.value = '';
  // Checked in onSubmit (not the native `required`) so the message is ours and translated.
  reason.setAttribute('aria-required', mode === 'required' ? 'true' : 'false');
  $('confirm-reason-row').hidden = mode === 'none';
  const num = $('confirm-number');
  $('confirm-number-row').hidden = !o.number;
  if (o.number) {
    num.min = String(o.number.min);
    num.max = String(o.number.max);
    num.value = String(o.number.value);
  }
  const err = $('confirm-error');
  err.hidden = true;

  return new Promise((resolve) => {
    const done = (value) => {
      $('confirm-form').removeEventListener('submit', onSubmit);
      $('confirm-cancel').removeEventListener('click', onCancel);
      dlg.removeEventListener('cancel', onCancel);
      if (dlg.open) dlg.close();
      resolve(value);
    };
    const onSubmit = (ev) => {
      ev.preventDefault();
      const r = reason.value.trim();
      if (mode === 'required' && !r) {
        err.textContent = t('confirm.reason_required');
        err.hidden = false;
        reason.focus();
        return;
      }
      let n = null;
      if (o.number) {
        n = Number(num.value);
        if (!Number.isInteger(n) || n < o.number.min || n > o.number.max) {
          err.textContent = t('confirm.number_range', { min: o.number.min, max: o.number.max });
          err.hidden = false;
          return;
        }
      }
      done({ reason: r, number: n });
    };
    const onCancel = (ev) => {
      ev?.preventDefault?.();
      done(null);
    };
    $('confirm-form').addEventListener('submit', onSubmit);
    $('confirm-cancel').addEventListener('click', onCancel);
    dlg.addEventListener('cancel', onCancel);
    dlg.showModal();
    (mode === 'none' ? ok : reason).focus();
  });
}

let toastTimer = 0;

/** Short message at the bottom of the screen; `kind` = ok | error. */
export function toast(msg, kind = 'ok') {
  const el = $('toast');
  el.textContent = msg;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.hidden = true;
  }, kind === 'error' ? 7000 : 3500);
}

/**
 * Modal dialogs (the native `<dialog>`) for the actions that change something, and the notices that
 * report how they went. A dialog asks for the cluster token when the tab has none; the token then
 * stays in sessionStorage (api.ts).
 */
import { token, setToken } from './api';
import { h, replace } from './dom';

export interface Field {
  name: string;
  label: string;
  type?: 'text' | 'password' | 'checkbox';
  value?: string;
  required?: boolean;
  hint?: string;
}

export type FormValues = Record<string, string | boolean>;

/** The token field, when this tab has no token yet. */
export function tokenFields(): Field[] {
  return token() === null
    ? [{ name: 'token', label: 'Cluster token', type: 'password', required: true, hint: 'Kept in this browser tab only (sessionStorage); RLINK_TOKEN or ~/.rlink/token on the cluster.' }]
    : [];
}

/**
 * Shows a modal form; resolves with the values, or null when dismissed. A `token` field, when
 * filled, is stored for the tab before the promise resolves.
 */
export function formDialog(opts: { title: string; message?: string; fields: Field[]; submit: string; danger?: boolean; testid?: string }): Promise<FormValues | null> {
  return new Promise((resolve) => {
    const inputs = new Map<string, HTMLInputElement>();
    const rows = opts.fields.map((f) => {
      const id = `field-${f.name}`;
      const input = h('input', {
        id, name: f.name, type: f.type ?? 'text', required: f.required ?? false, autocomplete: f.type === 'password' ? 'off' : null,
        'data-testid': `dialog-${f.name}`,
      });
      if (f.type === 'checkbox') input.checked = f.value === 'true';
      else input.value = f.value ?? '';
      inputs.set(f.name, input);
      return f.type === 'checkbox'
        ? h('div', { class: 'field checkbox' }, input, h('label', { for: id }, f.label), f.hint ? h('p', { class: 'hint' }, f.hint) : null)
        : h('div', { class: 'field' }, h('label', { for: id }, f.label), input, f.hint ? h('p', { class: 'hint' }, f.hint) : null);
    });
    const dialog = h('dialog', { class: 'modal', 'aria-labelledby': 'dialog-title', 'data-testid': opts.testid ?? 'dialog' });
    let settled = false;
    const close = (v: FormValues | null) => {
      if (settled) return;
      settled = true;
      dialog.close();
      dialog.remove();
      resolve(v);
    };
    const form = h('form', {
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        const values: FormValues = {};
        for (const [name, input] of inputs) values[name] = input.type === 'checkbox' ? input.checked : input.value.trim();
        if (typeof values.token === 'string' && values.token !== '') setToken(values.token);
        close(values);
      },
    },
    h('h2', { id: 'dialog-title' }, opts.title),
    opts.message ? h('p', null, opts.message) : null,
    rows,
    h('div', { class: 'buttons' },
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'dialog-dismiss', onclick: () => close(null) }, 'Back'),
      h('button', { type: 'submit', class: opts.danger ? 'danger' : 'primary', 'data-testid': 'dialog-submit' }, opts.submit)));
    dialog.appendChild(form);
    dialog.addEventListener('cancel', (ev) => { ev.preventDefault(); close(null); });
    document.body.appendChild(dialog);
    dialog.showModal();
    const first = [...inputs.values()].find((i) => i.type !== 'checkbox');
    (first ?? dialog.querySelector('button[type=submit]') as HTMLElement | null)?.focus();
  });
}

/** Notices shown at once; older ones go first. */
const MAX_NOTICES = 3;

/** A short-lived message in the notices area (aria-live: read out by screen readers). */
export function notice(kind: 'ok' | 'error' | 'info', text: string, ttlMs = 15_000): void {
  const area = document.getElementById('notices');
  if (!area) return;
  while (area.children.length >= MAX_NOTICES) area.firstElementChild?.remove();
  const close = h('button', { type: 'button', class: 'close', 'aria-label': 'Dismiss' }, '×');
  const el = h('div', { class: `notice ${kind}`, 'data-testid': `notice-${kind}` }, h('span', null, text), close);
  close.addEventListener('click', () => el.remove());
  area.appendChild(el);
  window.setTimeout(() => el.remove(), ttlMs);
}

/** The header's token control: shows whether the tab has a token; sets or forgets it. */
export function tokenControl(): HTMLElement {
  const wrap = h('div', { class: 'token' });
  const render = () => {
    const has = token() !== null;
    replace(wrap,
      h('span', { class: has ? 'token-state set' : 'token-state', 'data-testid': 'token-state' }, has ? 'token set' : 'read-only'),
      h('button', {
        type: 'button', class: 'secondary small', 'data-testid': 'token-button',
        onclick: () => {
          if (has) { setToken(null); render(); return; }
          void formDialog({ title: 'Cluster token', message: 'Reads need no token; cancel, savepoint and stop do.', fields: tokenFields(), submit: 'Keep for this tab' }).then(render);
        },
      }, has ? 'Forget token' : 'Enter token'));
  };
  render();
  window.addEventListener('rlink:token', render);
  return wrap;
}

/** Clears the notices (another page is shown). */
export function clearNotices(): void {
  document.getElementById('notices')?.replaceChildren();
}

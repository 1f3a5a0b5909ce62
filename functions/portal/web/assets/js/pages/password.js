// 修改密码: forced after the first sign-in (and after an administrator's reset); also
// offered any time. Changing it ends every other session of the account.
import { h, clear } from '../dom.js';
import { t } from '../i18n.js';
import { post } from '../api.js';
import { field, rules, check, showErrors, busy, toast } from '../ui.js';

export async function render(ctx) {
  const forced = ctx.me && ctx.me.must_change_password;
  const current = h('input', { type: 'password', autocomplete: 'current-password' });
  const next = h('input', { type: 'password', autocomplete: 'new-password', maxlength: 128 });
  const again = h('input', { type: 'password', autocomplete: 'new-password', maxlength: 128 });
  const submit = h('button.btn-primary', { type: 'submit', id: 'change-password' }, t('password.submit'));
  const form = h('form.form', { novalidate: true, id: 'password-form' },
    field({ name: 'current_password', label: t('password.current'), required: true, input: current }),
    field({ name: 'new_password', label: t('password.new'), required: true, hint: t('password.rule'), input: next }),
    field({ name: 'confirm', label: t('password.again'), required: true, input: again }),
    h('div.form-actions', submit));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const problems = {
      current_password: current.value ? '' : t('v.required'),
      new_password: rules.password(next.value, ctx.me && ctx.me.login) || (next.value === current.value ? t('v.passwordSame') : ''),
      confirm: again.value === next.value ? '' : t('v.passwordMismatch'),
    };
    if (!check(form, problems)) return;
    busy(submit, async () => {
      try {
        await post('/api/v1/me/password', { current_password: current.value, new_password: next.value });
        toast(t('password.changed'));
        await ctx.signedIn();
      } catch (err) {
        showErrors(form, err);
      }
    });
  });
  clear(ctx.main, h('div.auth-wrap',
    h('section.card.auth-card',
      h('h1', t(forced ? 'password.forcedTitle' : 'password.title')),
      forced ? h('div.alert.alert-warn', t('password.forced')) : null,
      form)));
  current.focus();
}

// 登录: an account issued by a platform administrator (there is no self sign-up).
import { h, clear } from '../dom.js';
import { t } from '../i18n.js';
import { post } from '../api.js';
import { field, rules, check, showErrors, busy } from '../ui.js';

export async function render(ctx) {
  const login = h('input', { type: 'text', autocomplete: 'username', maxlength: 64, autofocus: true });
  const password = h('input', { type: 'password', autocomplete: 'current-password', maxlength: 512 });
  const submit = h('button.btn-primary', { type: 'submit', id: 'sign-in' }, t('login.submit'));
  const form = h('form.form', { novalidate: true, id: 'login-form' },
    field({ name: 'login', label: t('login.login'), required: true, input: login }),
    field({ name: 'password', label: t('login.password'), required: true, input: password }),
    h('div.form-actions', submit));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!check(form, { login: rules.line(login.value, 1, 64), password: password.value ? '' : t('v.required') })) return;
    busy(submit, async () => {
      try {
        const r = await post('/api/v1/sessions', { login: login.value.trim(), password: password.value }, { quiet: true });
        password.value = '';
        await ctx.signedIn(r.must_change_password ? '/console/password' : ctx.query.get('next'));
      } catch (err) {
        password.value = '';
        showErrors(form, err);
      }
    });
  });
  clear(ctx.main, h('div.auth-wrap',
    h('section.card.auth-card',
      h('h1', t('login.title')),
      h('p.muted', t('login.intro')),
      form,
      h('p.hint', t('login.noSignup')))));
  login.focus();
}

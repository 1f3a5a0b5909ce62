// 接入指南: how a vendor integrates (seed §5.2): single sign-on, the signed OpenAPI, the
// capabilities and the page-side JS-SDK, with the vendor's own appCode in the examples.
// The appSecret is never put in this page: the examples read it from the vendor's shell.
import { h, clear } from '../dom.js';
import { t } from '../i18n.js';
import { get, query } from '../api.js';
import { field, copyButton, linkTo } from '../ui.js';

const SDK_VERSION = '1.0.0';

function code(text, id) {
  return h('div', h('div.form-actions', copyButton(text)), h('pre', { id }, h('code', text)));
}

export async function render(ctx) {
  const apps = (await get('/api/v1/apps' + query({ status: 'approved', page_size: 100 }))).items;
  const origin = location.origin;
  const appCode = (apps.find((a) => a.id === ctx.query.get('app')) || apps[0] || {}).app_code || '<appCode>';
  const sel = apps.length ? h('select', { id: 'guide-app', onchange: (e) => ctx.setQuery({ app: e.target.value }) },
    apps.map((a) => h('option', { value: a.id, selected: a.app_code === appCode }, a.name))) : null;

  const sign = `# ${t('guide.signComment')}
GW=${origin}
APP_CODE=${appCode}
read -rs APP_SECRET   # ${t('guide.secretComment')}

jlb_sign() {  # METHOD PATH BODY → the four X-Jlb-* headers
  local ts nonce digest sts
  ts=$(date +%s); nonce=$(openssl rand -hex 16)
  digest=$(printf '%s' "$3" | openssl dgst -sha256 -hex | sed 's/^.* //')
  sts=$(printf 'JLB1-HMAC-SHA256\\n%s\\n%s\\n\\n%s\\n%s\\n%s\\n%s' "$1" "$2" "$APP_CODE" "$ts" "$nonce" "$digest")
  SIG_HEADERS=(-H "X-Jlb-App-Code: $APP_CODE" -H "X-Jlb-Timestamp: $ts" -H "X-Jlb-Nonce: $nonce"
    -H "X-Jlb-Signature: $(printf '%s' "$sts" | openssl dgst -sha256 -hmac "$APP_SECRET" -hex | sed 's/^.* //')")
}`;
  const sso = `# ${t('guide.ssoComment')}
BODY='{"ticket":"test_tk_…"}'
jlb_sign POST /api/v1/sso/token "$BODY"
curl -s "$GW/api/v1/sso/token" -H 'Content-Type: application/json' "\${SIG_HEADERS[@]}" -d "$BODY"

# ${t('guide.userinfoComment')}
jlb_sign GET /api/v1/sso/userinfo ""
curl -s "$GW/api/v1/sso/userinfo" -H "Authorization: Bearer $ACCESS_TOKEN" "\${SIG_HEADERS[@]}"`;
  const caps = `# ${t('guide.messageComment')}
BODY='{"citizen_id":"<${t('guide.citizenId')}>","title":"办理进度通知","body":"您的申请已受理。"}'
jlb_sign POST /api/v1/messages "$BODY"
curl -s "$GW/api/v1/messages" -H 'Content-Type: application/json' -H "Idempotency-Key: $(openssl rand -hex 8)" "\${SIG_HEADERS[@]}" -d "$BODY"

# ${t('guide.smsComment')}
BODY='{"citizen_id":"<${t('guide.citizenId')}>","template_code":"SMS_100000001","params":{"service":"公积金提取","status":"已受理"}}'
jlb_sign POST /api/v1/sms/send "$BODY"
curl -s "$GW/api/v1/sms/send" -H 'Content-Type: application/json' -H "Idempotency-Key: $(openssl rand -hex 8)" "\${SIG_HEADERS[@]}" -d "$BODY"`;
  const jssdk = `<!-- ${t('guide.jssdkComment')} -->
<script src="${origin}/sdk/jssdk-${SDK_VERSION}.js"></script>
<script src="/your-page.js"></script>

// your-page.js
jlb.ready(function (env) {
  jlb.setTitle(document.title);            // ${t('guide.titleRule')}
  if (jlb.can('setUIStyle')) jlb.setUIStyle('normal');
});
document.querySelector('#back').onclick = function () { jlb.close(); };`;

  clear(ctx.main,
    h('div.page-head', h('div', h('h1', t('guide.title')), h('p.sub', t('guide.sub')))),
    apps.length ? h('section.card', h('div.toolbar', field({ name: 'app', label: t('services.app'), input: sel })),
      h('p', t('guide.appCodeIs'), ' ', h('code', { id: 'guide-app-code' }, appCode))) : h('div.alert.alert-info', t('caps.needApprovedApp'), ' ', linkTo('/console/apps', t('menu.apps'))),
    h('section.card', h('h2', t('guide.flowTitle')),
      h('ol', ['guide.flow1', 'guide.flow2', 'guide.flow3', 'guide.flow4', 'guide.flow5'].map((k) => h('li', t(k)))),
      h('div.alert.alert-warn', t('guide.tokenRule'))),
    h('section.card', h('h2', t('guide.signTitle')), h('p', t('guide.signIntro')), code(sign, 'guide-sign')),
    h('section.card', h('h2', t('guide.ssoTitle')), code(sso, 'guide-sso')),
    h('section.card', h('h2', t('guide.capsTitle')), h('p', t('guide.capsIntro')), code(caps, 'guide-caps')),
    h('section.card', h('h2', t('guide.jssdkTitle')), h('p', t('guide.jssdkIntro')), code(jssdk, 'guide-jssdk'),
      h('table.data', h('thead', h('tr', h('th', t('guide.method')), h('th', t('guide.meaning')))),
        h('tbody', ['version', 'can', 'ready', 'setTitle', 'openLink', 'close', 'setUIStyle', 'getTicket'].map((m) => h('tr', h('td', h('code', 'jlb.' + m)), h('td', t('guide.m.' + m))))))),
    h('section.card', h('h2', t('guide.rulesTitle')), h('ul', ['guide.rule1', 'guide.rule2', 'guide.rule3', 'guide.rule4'].map((k) => h('li', t(k))))));
}

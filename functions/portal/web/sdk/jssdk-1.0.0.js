/*!
 * 晋来办 JS-SDK 1.0.0 — the page-side SDK of the 晋来办 open platform.
 *
 *   <script src="https://<platform>/sdk/jssdk-1.0.0.js"></script>
 *   jlb.ready(function (env) { jlb.setTitle(document.title); });
 *
 * A service page runs inside the super-app (or the platform's simulator, which frames it).
 * The SDK talks to that shell by postMessage, only with the platform's origin (the origin
 * this script was loaded from) and only with the parent window; every call returns a Promise.
 *
 *   jlb.version                 "1.0.0"
 *   jlb.can(method)             whether the shell offers method (after ready: what it said)
 *   jlb.ready(cb)               cb(env) once the shell answered (env.inShell false outside it)
 *   jlb.setTitle(title)         the title in the shell's bar (must match the service's name)
 *   jlb.openLink(url)           open a link in a new page of the shell
 *   jlb.close()                 close the service and return to the super-app
 *   jlb.setUIStyle(style)       'normal' or 'elder' (larger type, for older citizens)
 *   jlb.getTicket()             a fresh single sign-on ticket for this service: {ticket, ...}
 */
(function (global) {
  'use strict';
  var VERSION = '1.0.0';
  var METHODS = ['setTitle', 'openLink', 'close', 'setUIStyle', 'getTicket'];
  var script = document.currentScript;
  var SHELL_ORIGIN = (function () {
    try { return new URL(script && script.src ? script.src : location.href).origin; } catch (e) { return ''; }
  })();
  var inFrame = global.parent && global.parent !== global;
  var pending = {};
  var seq = 0;
  var readyCallbacks = [];
  var env = null;
  var offered = null;

  function fire() {
    var cbs = readyCallbacks;
    readyCallbacks = [];
    for (var i = 0; i < cbs.length; i++) {
      try { cbs[i](env); } catch (e) { setTimeout(function () { throw e; }); }
    }
  }

  function send(method, params) {
    return new Promise(function (resolve, reject) {
      if (!inFrame) {
        reject(error('not-in-shell', 'This page is not inside the 晋来办 super-app.'));
        return;
      }
      var id = 'jlb' + (++seq);
      pending[id] = { resolve: resolve, reject: reject };
      global.parent.postMessage({ jlb: 'req', v: VERSION, id: id, method: method, params: params || {} }, SHELL_ORIGIN);
      setTimeout(function () {
        if (pending[id]) {
          delete pending[id];
          reject(error('timeout', 'The super-app did not answer ' + method + '.'));
        }
      }, 10000);
    });
  }

  function error(code, message) {
    var e = new Error(message);
    e.code = code;
    return e;
  }

  global.addEventListener('message', function (e) {
    // Only the shell that frames this page, on the platform's origin, is listened to.
    if (e.source !== global.parent || e.origin !== SHELL_ORIGIN) return;
    var m = e.data;
    if (!m || m.jlb !== 'res' || !pending[m.id]) return;
    var p = pending[m.id];
    delete pending[m.id];
    if (m.error) p.reject(error(m.error.code || 'error', m.error.message || 'error'));
    else p.resolve(m.result);
  });

  function handshake() {
    if (!inFrame) {
      env = { inShell: false, version: VERSION };
      offered = [];
      fire();
      return;
    }
    send('ready', { title: document.title, url: location.href, sdk: VERSION }).then(function (r) {
      env = { inShell: true, version: VERSION, shell: r.shell, uiStyle: r.ui_style, moduleCode: r.module_code };
      offered = r.methods || [];
      fire();
    }, function () {
      env = { inShell: false, version: VERSION };
      offered = [];
      fire();
    });
  }

  var jlb = {
    version: VERSION,
    can: function (method) {
      if (METHODS.indexOf(method) < 0 && method !== 'ready' && method !== 'can') return false;
      if (method === 'ready' || method === 'can') return true;
      return offered === null ? inFrame : offered.indexOf(method) >= 0;
    },
    ready: function (cb) {
      if (typeof cb !== 'function') return;
      readyCallbacks.push(cb);
      if (env) fire();
    },
    setTitle: function (title) {
      title = String(title == null ? '' : title);
      if (!inFrame) { document.title = title; return Promise.resolve(); }
      return send('setTitle', { title: title });
    },
    openLink: function (url) {
      var u;
      try { u = new URL(url, location.href); } catch (e) { return Promise.reject(error('bad-url', 'Not a URL: ' + url)); }
      if (u.protocol !== 'https:' && u.protocol !== 'http:') return Promise.reject(error('bad-url', 'Only http(s) links open.'));
      if (!inFrame) { global.open(u.href, '_blank', 'noopener'); return Promise.resolve(); }
      return send('openLink', { url: u.href });
    },
    close: function () { return send('close'); },
    setUIStyle: function (style) {
      if (style !== 'normal' && style !== 'elder') return Promise.reject(error('bad-style', "setUIStyle takes 'normal' or 'elder'."));
      return send('setUIStyle', { style: style });
    },
    getTicket: function () { return send('getTicket'); },
  };

  global.jlb = jlb;
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', handshake);
  else handshake();
})(window);

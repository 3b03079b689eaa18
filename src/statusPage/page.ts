import { createHash } from 'node:crypto';

/*
 * The status page: one self-contained document (no CDN, no framework; the machine may be offline).
 * Everything that comes from the bridge is put in the DOM with textContent, never as HTML, because
 * payloads are whatever a device sent. The script is allowed by its hash in the CSP, so even a
 * missed escape could not run injected script.
 */

const STYLE = `
:root { color-scheme: light dark; --bg:#f5f5f7; --card:#fff; --text:#1d1d1f; --muted:#6e6e73; --line:#d2d2d7;
  --ok:#0f7b0f; --warn:#b35c00; --bad:#c4314b; --accent:#4f52b2; }
@media (prefers-color-scheme: dark) { :root { --bg:#1c1c1e; --card:#2c2c2e; --text:#f5f5f7; --muted:#a1a1a6; --line:#3a3a3c; --accent:#8b8df0; } }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; background:var(--bg); color:var(--text); }
header.top { display:flex; flex-wrap:wrap; align-items:baseline; gap:.5rem 1rem; padding:.8rem 1rem; background:var(--card); border-bottom:1px solid var(--line); }
header.top h1 { font-size:1.15rem; margin:0; }
#conn { font-size:.85rem; color:var(--muted); }
#conn.live { color:var(--ok); }
#scale { font-size:.85rem; color:var(--warn); }
main { max-width:60rem; margin:0 auto; padding:.8rem; display:grid; gap:.8rem; }
section > h2 { font-size:1rem; margin:.2rem 0 .5rem; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:.8rem; }
#users { display:grid; gap:.8rem; grid-template-columns:repeat(auto-fit,minmax(17rem,1fr)); }
.user header { display:flex; justify-content:space-between; align-items:center; gap:.5rem; margin-bottom:.4rem; }
.user h3 { margin:0; font-size:1.05rem; }
.badge { border-radius:999px; padding:.15rem .6rem; font-size:.85rem; font-weight:600; color:#fff; background:#8e8e93; white-space:nowrap; }
.badge.Available { background:#13a10e; } .badge.Busy { background:#c4314b; } .badge.DoNotDisturb { background:#8b1a2f; }
.badge.Away, .badge.BeRightBack { background:#c98a00; } .badge.Offline, .badge.PresenceUnknown { background:#8e8e93; }
dl { display:grid; grid-template-columns:auto 1fr; gap:.25rem .8rem; margin:0; }
dt { color:var(--muted); font-size:.85rem; padding-top:.1rem; }
dd { margin:0; overflow-wrap:anywhere; }
small, .muted { color:var(--muted); }
.health-ok { color:var(--ok); } .health-pending { color:var(--muted); } .health-retrying { color:var(--warn); } .health-unhealthy { color:var(--bad); }
.hint { font-size:.85rem; }
.override { margin-top:.5rem; font-size:.85rem; color:var(--warn); }
#summary { display:flex; flex-wrap:wrap; gap:.4rem .8rem; align-items:center; font-size:.9rem; }
#summary .count { border:1px solid var(--line); border-radius:999px; padding:.1rem .6rem; background:transparent; color:inherit; font:inherit; cursor:pointer; }
#summary .count[aria-pressed="true"] { border-color:var(--accent); color:var(--accent); font-weight:600; }
#toolbar { display:flex; flex-wrap:wrap; gap:.5rem; align-items:center; }
#search { font:inherit; flex:1 1 12rem; min-width:0; padding:.4rem .6rem; border:1px solid var(--line); border-radius:8px; background:var(--card); color:inherit; }
#pager { display:flex; gap:.4rem; align-items:center; font-size:.85rem; color:var(--muted); }
#pager button { font:inherit; padding:.2rem .6rem; border-radius:6px; border:1px solid var(--line); background:transparent; color:inherit; cursor:pointer; }
#pager button:disabled { opacity:.4; cursor:default; }
#pager[hidden] { display:none; }
#buttons { display:flex; flex-wrap:wrap; gap:.5rem; }
#buttons button { font:inherit; padding:.55rem .8rem; border-radius:8px; border:1px solid var(--accent); background:transparent; color:var(--accent); cursor:pointer; text-align:left; }
#buttons button:active { background:var(--accent); color:#fff; }
#buttons button small { display:block; font-size:.75rem; font-family:ui-monospace,monospace; }
@media (max-width: 600px) { #buttons button { flex:1 1 40%; } #buttons button small { display:none; } }
#demo-msg { min-height:1.2em; margin:.4rem 0 0; font-size:.85rem; color:var(--muted); }
#timeline { list-style:none; margin:0; padding:0; font-size:.85rem; }
#timeline li { display:grid; grid-template-columns:5.2rem 1fr; gap:.1rem .6rem; padding:.3rem 0; border-top:1px solid var(--line); }
#timeline li:first-child { border-top:0; }
#timeline time { color:var(--muted); font-variant-numeric:tabular-nums; }
#timeline .what { font-weight:600; }
#timeline .failed .what { color:var(--bad); }
#timeline .detail { grid-column:2; font-family:ui-monospace,monospace; overflow-wrap:anywhere; }
`;

const SCRIPT = `
(function () {
  'use strict';
  var model = { name: 'Presence Bridge', timeScale: 1, users: {}, order: [], timeline: [], demo: null, counts: null, matched: 0 };
  var query = { q: '', health: '', page: 1, pageSize: 100 };
  var refreshTimer = null, refreshing = false, refreshAgain = false;
  var HEALTHS = ['unhealthy', 'retrying', 'pending', 'ok'];
  var clockBase = { server: Date.now(), local: Date.now() };
  var MAX_ROWS = 100;

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function nowEstimate() { return clockBase.server + (Date.now() - clockBase.local) * model.timeScale; }
  function setNow(serverNow) { if (typeof serverNow === 'number') clockBase = { server: serverNow, local: Date.now() }; }
  function pair(p) { return p ? p.availability + '/' + p.activity : null; }
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function clockText(ms) { var d = new Date(ms); return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()); }
  function duration(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    if (h > 0) return h + ' h ' + pad(m) + ' min';
    if (m > 0) return m + ' min ' + pad(r) + ' s';
    return r + ' s';
  }
  function until(at) {
    if (at === null || at === undefined) return '—';
    var left = at - nowEstimate();
    return left > 0 ? 'in ' + duration(left) : 'due';
  }

  function row(dl, label, field, value, note) {
    dl.appendChild(el('dt', null, label));
    var dd = el('dd');
    dd.setAttribute('data-field', field);
    dd.appendChild(document.createTextNode(value));
    if (note) { dd.appendChild(document.createTextNode(' ')); dd.appendChild(el('small', null, note)); }
    dl.appendChild(dd);
    return dd;
  }

  function renderUser(s) {
    var card = el('article', 'card user');
    card.setAttribute('data-user', s.userKey);
    var head = el('header');
    head.appendChild(el('h3', null, s.displayName || s.userKey));
    var actual = s.actual;
    var badge = el('span', 'badge ' + (actual ? actual.availability : 'PresenceUnknown'), actual ? actual.availability + (actual.activity && actual.activity !== actual.availability && actual.activity !== 'PresenceUnknown' ? ' · ' + actual.activity : '') : 'unknown');
    badge.setAttribute('data-field', 'badge');
    head.appendChild(badge);
    card.appendChild(head);
    var dl = el('dl');
    row(dl, 'Desired', 'desired', pair(s.desired) || 'clear', s.desired && s.source ? 'from ' + s.source : null);
    if (s.gated) row(dl, 'Held back', 'gated', s.gated.note);
    row(dl, 'Confirmed', 'confirmed', pair(s.confirmed) || 'no session');
    var exp = row(dl, 'Session ends', 'expires', until(s.sessionExpiresAt));
    exp.setAttribute('data-at', s.sessionExpiresAt === null ? '' : String(s.sessionExpiresAt));
    var ren = row(dl, 'Next renewal', 'renewal', until(s.nextRenewalAt));
    ren.setAttribute('data-at', s.nextRenewalAt === null ? '' : String(s.nextRenewalAt));
    row(dl, 'Actual', 'actual', pair(actual) || 'unknown');
    var health = row(dl, 'Health', 'health', s.health);
    health.className = 'health-' + s.health;
    if (s.lastError) {
      health.appendChild(el('div', 'hint', s.lastError.code + ': ' + s.lastError.message));
      if (s.lastError.hint) health.appendChild(el('div', 'hint muted', s.lastError.hint));
    }
    card.appendChild(dl);
    if (s.overridden) card.appendChild(el('div', 'override', 'Teams shows a presence this session cannot explain: a state the user picked in Teams (user-preferred presence) overrides every session until it is reset.'));
    return card;
  }

  function renderUsers() {
    var box = $('users');
    box.textContent = '';
    model.order.forEach(function (key) { box.appendChild(renderUser(model.users[key])); });
    if (model.order.length === 0) box.appendChild(el('p', 'muted', query.q || query.health ? 'No user matches.' : 'No users configured.'));
    renderPager();
  }

  /* One card changes in place: with thousands of users an event never re-renders the whole list. */
  function replaceUser(s) {
    var old = $('users').querySelector('[data-user="' + CSS.escape(s.userKey) + '"]');
    model.users[s.userKey] = s;
    if (old) old.parentNode.replaceChild(renderUser(s), old);
  }

  function renderCounts() {
    var box = $('summary');
    box.textContent = '';
    var c = model.counts;
    if (!c) return;
    box.appendChild(el('span', null, c.total + (c.total === 1 ? ' user' : ' users')));
    HEALTHS.forEach(function (h) {
      var n = c.health[h] || 0;
      if (!n && query.health !== h) return;
      var b = el('button', 'count health-' + h, h + ' ' + n);
      b.type = 'button';
      b.setAttribute('data-health', h);
      b.setAttribute('aria-pressed', query.health === h ? 'true' : 'false');
      b.addEventListener('click', function () { query.health = query.health === h ? '' : h; query.page = 1; refresh(); });
      box.appendChild(b);
    });
    Object.keys(c.presence).sort().forEach(function (p) {
      var span = el('span', 'muted', p + ' ' + c.presence[p]);
      span.setAttribute('data-presence', p);
      box.appendChild(span);
    });
  }

  function renderPager() {
    var pages = Math.max(1, Math.ceil(model.matched / query.pageSize));
    var first = model.matched === 0 ? 0 : (query.page - 1) * query.pageSize + 1;
    var last = Math.min(model.matched, query.page * query.pageSize);
    $('range').textContent = first + '–' + last + ' of ' + model.matched;
    $('prev').disabled = query.page <= 1;
    $('next').disabled = query.page >= pages;
    $('pager').hidden = pages <= 1 && !query.q && !query.health;
  }

  function applyUsers(s) {
    model.users = {}; model.order = [];
    s.users.forEach(function (u) { model.users[u.userKey] = u; model.order.push(u.userKey); });
    model.counts = s.counts || null;
    if (s.query) { model.matched = s.query.matched; query.page = s.query.page; query.pageSize = s.query.pageSize; }
    else model.matched = s.users.length;
    renderCounts();
    renderUsers();
  }

  function stateUrl() {
    var params = [];
    if (query.q) params.push('q=' + encodeURIComponent(query.q));
    if (query.health) params.push('health=' + encodeURIComponent(query.health));
    if (query.page > 1) params.push('page=' + query.page);
    return 'api/state' + (params.length ? '?' + params.join('&') : '');
  }

  /* Fetches the shown page again (a search, another page, or an event that may move users between pages); one at a time. */
  function refresh() {
    if (refreshing) { refreshAgain = true; return; }
    refreshing = true;
    fetch(stateUrl())
      .then(function (r) { return r.json(); })
      .then(function (s) { if (s && s.users) { setNow(s.now); applyUsers(s); } })
      .catch(function () { /* the next event or search tries again */ })
      .then(function () { refreshing = false; if (refreshAgain) { refreshAgain = false; refresh(); } });
  }

  function refreshSoon() {
    if (refreshTimer !== null) return;
    refreshTimer = setTimeout(function () { refreshTimer = null; refresh(); }, 1000);
  }

  function renderEntry(e) {
    var li = el('li', e.ok ? '' : 'failed');
    li.setAttribute('data-entry', String(e.id));
    var t = el('time', null, clockText(e.at));
    li.appendChild(t);
    var what = el('span', 'what', (e.kind === 'signal' ? 'signal ' : 'Graph ') + e.title);
    if (e.userKey) what.appendChild(el('small', null, ' · ' + e.userKey));
    if (e.count > 1) what.appendChild(el('small', null, ' ×' + e.count));
    li.appendChild(what);
    li.appendChild(el('span', 'detail', e.detail));
    return li;
  }

  function addEntry(e) {
    var list = $('timeline');
    var old = list.querySelector('[data-entry="' + e.id + '"]');
    var li = renderEntry(e);
    if (old) { list.replaceChild(li, old); return; }
    list.insertBefore(li, list.firstChild);
    while (list.children.length > MAX_ROWS) list.removeChild(list.lastChild);
  }

  function renderDemo() {
    var section = $('demo');
    if (!model.demo || !model.demo.buttons.length) { section.hidden = true; return; }
    section.hidden = false;
    var box = $('buttons');
    box.textContent = '';
    model.demo.buttons.forEach(function (b) {
      var button = el('button', null, b.label);
      button.type = 'button';
      button.setAttribute('data-button', b.id);
      button.appendChild(el('small', null, b.topic + '  ' + b.payload));
      button.addEventListener('click', function () { press(b); });
      box.appendChild(button);
    });
  }

  function press(b) {
    var msg = $('demo-msg');
    msg.textContent = 'publishing to ' + b.topic + '…';
    fetch('api/demo/publish', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: b.id }) })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (r) { msg.textContent = r.ok ? 'published ' + b.payload + ' to ' + b.topic : 'failed: ' + (r.body && r.body.error || 'unknown error'); })
      .catch(function (err) { msg.textContent = 'failed: ' + err.message; });
  }

  function applySnapshot(s) {
    model.name = s.name; model.timeScale = s.timeScale || 1; model.demo = s.demo;
    setNow(s.now);
    document.title = s.name + ' status';
    $('title').textContent = s.name;
    $('scale').textContent = model.timeScale !== 1 ? 'time runs ×' + model.timeScale : '';
    $('timeline').textContent = '';
    s.timeline.forEach(addEntry);
    renderDemo();
    /* a reconnect brings the first page; a search or another page is fetched again */
    if (query.q || query.health || query.page > 1) refresh();
    else applyUsers(s);
  }

  function tick() {
    var nodes = document.querySelectorAll('[data-at]');
    for (var i = 0; i < nodes.length; i++) {
      var at = nodes[i].getAttribute('data-at');
      nodes[i].textContent = at ? until(Number(at)) : '—';
    }
  }

  function connect() {
    var conn = $('conn');
    if (!window.EventSource) { conn.textContent = 'no live updates in this browser; reload to refresh'; fetch('api/state').then(function (r) { return r.json(); }).then(applySnapshot); return; }
    var source = new EventSource('events');
    source.addEventListener('open', function () { conn.textContent = 'live'; conn.className = 'live'; });
    source.addEventListener('error', function () { conn.textContent = 'reconnecting…'; conn.className = ''; });
    source.addEventListener('snapshot', function (ev) { applySnapshot(JSON.parse(ev.data)); });
    source.addEventListener('state', function (ev) {
      var m = JSON.parse(ev.data); setNow(m.now);
      if (m.counts) { model.counts = m.counts; renderCounts(); }
      var shown = model.users[m.state.userKey];
      if (shown) {
        replaceUser(m.state);
        if (shown.health !== m.state.health) refreshSoon(); // worst first: it may move
      } else if (m.state.health !== 'ok' || query.q || query.health) {
        refreshSoon(); // it may belong on this page now
      }
    });
    source.addEventListener('timeline', function (ev) { var m = JSON.parse(ev.data); setNow(m.now); addEntry(m.entry); });
  }

  var searchTimer = null;
  $('search').addEventListener('input', function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () { query.q = $('search').value.trim(); query.page = 1; refresh(); }, 250);
  });
  $('prev').addEventListener('click', function () { if (query.page > 1) { query.page--; refresh(); } });
  $('next').addEventListener('click', function () { query.page++; refresh(); });

  connect();
  setInterval(tick, 250);
})();
`;

export const PAGE_SCRIPT_HASH = `sha256-${createHash('sha256').update(SCRIPT).digest('base64')}`;

/** Content-Security-Policy for the page: only its own inline script and style, only its own origin. */
export const PAGE_CSP = [
  "default-src 'none'",
  `script-src '${PAGE_SCRIPT_HASH}'`,
  "style-src 'unsafe-inline'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Presence Bridge status</title>
<style>${STYLE}</style>
</head>
<body>
<header class="top"><h1 id="title">Presence Bridge</h1><span id="conn">connecting…</span><span id="scale"></span></header>
<main>
<section class="card" aria-label="Users">
<div id="toolbar"><input id="search" type="search" placeholder="Search users (name, key or id)" aria-label="Search users" autocomplete="off">
<span id="pager" hidden><button id="prev" type="button" aria-label="Previous page">‹</button><span id="range"></span><button id="next" type="button" aria-label="Next page">›</button></span></div>
<div id="summary" aria-live="polite"></div>
</section>
<section><div id="users"></div></section>
<section id="demo" class="card" hidden>
<h2>Try it: these buttons publish what a device would</h2>
<div id="buttons"></div>
<p id="demo-msg" aria-live="polite"></p>
</section>
<section class="card"><h2>Recent signals and Graph calls</h2><ol id="timeline"></ol></section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;

/**
 * The status page served at `/`: one self-contained HTML document (inline CSS and script, nothing
 * fetched but `/status.json`), which polls every second and computes throughput from the counters.
 */
export const statusPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pg-event-bridge status</title>
<style>
  :root { color-scheme: light dark; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --muted: #6e7781; --line: #d0d7de; }
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; padding: 20px 28px; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  h2 { font-size: 15px; margin: 22px 0 8px; }
  .sub { color: var(--muted); }
  .badge { display: inline-block; padding: 2px 10px; border-radius: 999px; font-weight: 600; color: #fff; background: var(--muted); }
  .badge.ok { background: var(--ok); } .badge.bad { background: var(--bad); } .badge.warn { background: var(--warn); }
  .cards { display: flex; gap: 12px; flex-wrap: wrap; margin-top: 14px; }
  .card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 130px; }
  .card .v { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
  .card .k { color: var(--muted); font-size: 12px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); }
  td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
  .err { color: var(--bad); font-size: 12px; }
  .dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 6px; background: var(--muted); }
  .dot.ok { background: var(--ok); } .dot.bad { background: var(--bad); }
  #reasons { color: var(--bad); margin: 6px 0 0; padding-left: 18px; }
  footer { margin-top: 22px; color: var(--muted); font-size: 12px; }
</style>
</head>
<body>
<h1>pg-event-bridge <span id="role" class="badge">…</span> <span id="ready" class="badge">…</span></h1>
<div class="sub">Live from <code>/status.json</code>, every second. <span id="updated"></span></div>
<ul id="reasons"></ul>
<div class="cards">
  <div class="card"><div class="v" id="rate">0</div><div class="k">events/s published</div></div>
  <div class="card"><div class="v" id="published">0</div><div class="k">published</div></div>
  <div class="card"><div class="v" id="received">0</div><div class="k">received</div></div>
  <div class="card"><div class="v" id="inflight">0</div><div class="k">in flight</div></div>
  <div class="card"><div class="v" id="retries">0</div><div class="k">retries (errors)</div></div>
  <div class="card"><div class="v" id="dead">0</div><div class="k">dead letters</div></div>
  <div class="card"><div class="v" id="gaps">0</div><div class="k">NOTIFY gaps</div></div>
  <div class="card"><div class="v" id="outbox">–</div><div class="k">outbox depth</div></div>
</div>
<h2>Rules</h2>
<table id="rules"><thead><tr><th>source</th><th>upstream</th><th>target</th><th class="n">events/s</th><th class="n">received</th><th class="n">published</th><th class="n">retries</th><th class="n">dead letters</th><th class="n">last latency</th><th>last error</th></tr></thead><tbody></tbody></table>
<h2>Connections</h2>
<table id="conns"><thead><tr><th>kind</th><th>name</th><th>state</th><th>detail</th></tr></thead><tbody></tbody></table>
<h2>Replication slots</h2>
<table id="slots"><thead><tr><th>slot</th><th>active</th><th class="n">lag</th></tr></thead><tbody></tbody></table>
<footer id="footer"></footer>
<script>
(function () {
  var previous = null;
  var $ = function (id) { return document.getElementById(id); };
  var esc = function (text) { return String(text).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; }); };
  var num = function (n) { return Number(n).toLocaleString('en-US'); };
  var bytes = function (n) { if (n < 1024) return n + ' B'; if (n < 1048576) return (n / 1024).toFixed(1) + ' KiB'; if (n < 1073741824) return (n / 1048576).toFixed(1) + ' MiB'; return (n / 1073741824).toFixed(2) + ' GiB'; };
  var badge = function (el, text, kind) { el.textContent = text; el.className = 'badge ' + kind; };
  var key = function (r) { return r.source + '\\u0000' + r.upstream + '\\u0000' + r.target; };
  function render(s, now) {
    var dt = previous ? (now - previous.at) / 1000 : 0;
    var before = {};
    if (previous) previous.status.rules.forEach(function (r) { before[key(r)] = r.published; });
    var totals = { published: 0, retries: 0, dead: 0, rate: 0 };
    var rows = s.rules.map(function (r) {
      var rate = dt > 0 && before[key(r)] !== undefined ? Math.max(0, (r.published - before[key(r)]) / dt) : 0;
      totals.published += r.published; totals.retries += r.retries; totals.dead += r.deadLettered; totals.rate += rate;
      return '<tr><td>' + esc(r.source) + '</td><td>' + esc(r.upstream) + '</td><td>' + esc(r.target) + '</td>' +
        '<td class="n rate">' + rate.toFixed(1) + '</td><td class="n">' + num(r.received) + '</td><td class="n published">' + num(r.published) + '</td>' +
        '<td class="n">' + num(r.retries) + '</td><td class="n">' + num(r.deadLettered) + '</td>' +
        '<td class="n">' + (r.lastLatencyMs === null ? '–' : r.lastLatencyMs.toFixed(1) + ' ms') + '</td>' +
        '<td class="err">' + (r.lastError ? esc(r.lastError) : '') + '</td></tr>';
    });
    $('rules').tBodies[0].innerHTML = rows.join('') || '<tr><td colspan="10" class="sub">no rules</td></tr>';
    var received = 0; Object.keys(s.received).forEach(function (k) { received += s.received[k]; });
    $('rate').textContent = totals.rate.toFixed(1);
    $('published').textContent = num(totals.published);
    $('received').textContent = num(received);
    $('inflight').textContent = num(s.inFlight);
    $('retries').textContent = num(totals.retries);
    $('dead').textContent = num(totals.dead);
    $('gaps').textContent = num(s.gaps);
    $('outbox').textContent = s.outboxDepth === null ? '–' : num(s.outboxDepth);
    badge($('role'), s.role, s.role === 'leader' ? 'ok' : s.role === 'standby' ? 'warn' : '');
    badge($('ready'), s.ready ? 'ready' : 'not ready', s.ready ? 'ok' : 'bad');
    $('reasons').innerHTML = s.notReady.map(function (r) { return '<li>' + esc(r) + '</li>'; }).join('');
    var conns = s.sources.map(function (c) {
      return '<tr><td>source</td><td>' + esc(c.name) + '</td><td><span class="dot ' + (c.connected ? 'ok' : 'bad') + '"></span>' + (c.connected ? 'connected' : 'disconnected') + '</td><td class="err">' + (c.error ? esc(c.error) : '') + '</td></tr>';
    }).concat(s.upstreams.map(function (u) {
      var up = u.started && !u.failing;
      return '<tr><td>upstream</td><td>' + esc(u.name) + ' <span class="sub">' + esc(u.kind) + ' ' + esc(u.uri) + '</span></td><td><span class="dot ' + (up ? 'ok' : 'bad') + '"></span>' + (!u.started ? 'not started' : u.failing ? 'failing' : 'up') + '</td><td class="err">' + (u.error ? esc(u.error) : '') + '</td></tr>';
    }));
    $('conns').tBodies[0].innerHTML = conns.join('');
    $('slots').tBodies[0].innerHTML = s.slots.map(function (l) {
      return '<tr><td>' + esc(l.slot) + '</td><td>' + (l.active ? 'yes' : 'no') + '</td><td class="n">' + bytes(l.lagBytes) + '</td></tr>';
    }).join('') || '<tr><td colspan="3" class="sub">' + (s.postgresProbeError ? esc(s.postgresProbeError) : 'no WAL rules') + '</td></tr>';
    $('updated').textContent = 'Updated ' + new Date(s.time).toLocaleTimeString() + '.';
    $('footer').textContent = 'uptime ' + s.uptimeSeconds + ' s · leader lock ' + (s.leaderLock ? 'on' : 'off') + ' · /metrics for Prometheus, /healthz, /readyz';
    previous = { status: s, at: now };
  }
  function poll() {
    fetch('status.json', { cache: 'no-store' })
      .then(function (r) { return r.json(); })
      .then(function (s) { render(s, performance.now()); })
      .catch(function () { badge($('ready'), 'unreachable', 'bad'); })
      .finally(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
</script>
</body>
</html>
`;

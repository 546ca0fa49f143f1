/**
 * index.html: one self-contained page (inline CSS and JS, no network) with a flame graph per
 * test and hook, drawn with absolutely positioned divs, plus the crash stacks and failures.
 */
import type { UstackReport } from './model';
import { buildFlameTree, type FlameNode, hitPath, hitTotal, hooksOf, keptHitsOfHook, stackLines, stacksOfHook } from './stacks';
import { crashTitle, describeExit } from './summary';
import { testLabel } from './folded';
import { collectWarnings } from './warnings';
import { callStatsByPath, hasCallValues } from './call-stats';
import { formatDuration } from '../capture/value-format';

const CALL_HEADER = ['calls', 'returned', 'p50', 'p90', 'p99', 'max', 'call path', 'first call'];

function htmlCalls(hook: string, hits: Parameters<typeof callStatsByPath>[0]): HtmlCalls | null {
  if (!hasCallValues(hits)) return null;
  const t = (ns: number | undefined) => (ns === undefined ? '–' : formatDuration(ns));
  const rows = callStatsByPath(hits).map((s) => {
    const missing = Object.entries(s.noReturn).map(([k, n]) => `${n} ${k}`);
    return [
      String(s.calls),
      `${s.returned}${missing.length ? ` (${missing.join(', ')})` : ''}`,
      t(s.durations?.p50),
      t(s.durations?.p90),
      t(s.durations?.p99),
      t(s.durations?.max),
      s.path,
      [s.example.call, s.example.return].filter(Boolean).join(' '),
    ];
  });
  return { hook, header: CALL_HEADER, rows };
}

export interface HtmlGraph {
  hook: string;
  hits: number;
  tree: FlameNode;
}

export interface HtmlCrash {
  title: string;
  command: string;
  lines: string[];
}

/** Per call path of a hook with recorded arguments/returns: table cells, already formatted (issue 13). */
export interface HtmlCalls {
  hook: string;
  header: string[];
  rows: string[][];
}

export interface HtmlTest {
  calls?: HtmlCalls[];
  name: string;
  status: string;
  durationMs: number | null;
  commands: string[];
  graphs: HtmlGraph[];
  crashes: HtmlCrash[];
  /** Distinct capture warnings of the test's runs. */
  warnings: string[];
  failure: string | null;
}

export interface HtmlData {
  title: string;
  createdAt: string;
  totals: UstackReport['totals'];
  shards: string[];
  files: Array<{ path: string; status: string; failure: string | null; tests: HtmlTest[] }>;
}

const MAX_FAILURE_CHARS = 8000;

export function htmlData(report: UstackReport): HtmlData {
  return {
    title: report.title,
    createdAt: report.createdAt,
    totals: report.totals,
    shards: report.runs.map((r) => r.shard).filter((s): s is string => !!s),
    files: report.files.map((file) => ({
      path: file.path,
      status: file.status,
      failure: file.failureMessage ? file.failureMessage.slice(0, MAX_FAILURE_CHARS) : null,
      tests: file.tests.map((test) => {
        const hooks: string[] = [];
        for (const c of test.captures) for (const h of hooksOf(c)) if (!hooks.includes(h)) hooks.push(h);
        const graphs = hooks
          .map((hook) => {
            const stacks = stacksOfHook(test.captures, hook);
            return { hook, hits: hitTotal(stacks), tree: buildFlameTree(hook, stacks.map(hitPath), stacks.map((s) => s.count)) };
          });
        const crashes = test.captures
          .filter((c) => c.crash)
          .map((c) => ({ title: crashTitle(c), command: c.command.join(' '), lines: stackLines(c.crash!.frames) }));
        const calls = hooks.map((hook) => htmlCalls(hook, keptHitsOfHook(test.captures, hook))).filter((c): c is HtmlCalls => c !== null);
        return {
          ...(calls.length ? { calls } : {}),
          name: testLabel(test.title, test.fullName),
          status: test.status,
          durationMs: test.durationMs,
          commands: test.captures.map((c) => `${c.command.join(' ')} — ${describeExit(c)}`),
          graphs,
          crashes,
          warnings: collectWarnings(test.captures).map((w) => w.text + (w.runs > 1 ? ` (${w.runs} traced runs)` : '')),
          failure: test.failureMessages.length ? test.failureMessages.join('\n\n').slice(0, MAX_FAILURE_CHARS) : null,
        };
      }),
    })),
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON that is safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const CSS = `
:root { --bg:#fafafa; --fg:#1d1d1f; --muted:#666; --card:#fff; --line:#ddd; --ok:#1a7f37; --bad:#cf222e; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background:var(--bg); color:var(--fg); }
header { padding:16px 24px; background:#24292f; color:#fff; }
header h1 { margin:0 0 4px; font-size:20px; }
header .totals { opacity:.85; }
main { padding:16px 24px; max-width:1600px; }
section.file { margin:0 0 20px; }
section.file > h2 { font-size:16px; margin:16px 0 8px; font-family:ui-monospace, SFMono-Regular, Menlo, monospace; }
.test { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:10px 14px; margin:8px 0; }
.test > h3 { font-size:15px; margin:0 0 6px; }
.status-passed { color:var(--ok); } .status-failed { color:var(--bad); } .status-other { color:var(--muted); }
.cmd { font-family:ui-monospace, monospace; font-size:12px; color:var(--muted); }
.calls-table { border-collapse:collapse; font-size:12px; margin:4px 0 10px; }
.calls-table th, .calls-table td { border:1px solid #ddd; padding:2px 6px; text-align:left; }
.calls-table td.num { text-align:right; white-space:nowrap; }
.calls-table td.mono { font-family:ui-monospace, monospace; }
.graph { margin:10px 0 4px; }
.graph-title { font-size:13px; margin-bottom:4px; }
.graph-title button { font-size:11px; margin-left:8px; }
.flame { position:relative; width:100%; overflow:hidden; border:1px solid var(--line); background:#fff; }
.frame { position:absolute; height:17px; overflow:hidden; white-space:nowrap; font:11px/17px ui-monospace, Menlo, monospace;
  padding:0 3px; border-right:1px solid #fff; border-radius:2px; cursor:pointer; color:#000; text-overflow:ellipsis; }
.frame:hover { filter:brightness(0.9); outline:1px solid #333; }
.frame.root { background:#ccc; }
pre { background:#f6f8fa; border:1px solid var(--line); border-radius:4px; padding:8px; overflow:auto; font-size:12px; margin:6px 0; }
.crash { border-left:4px solid var(--bad); padding-left:10px; margin:8px 0; }
.crash h4 { margin:0; color:var(--bad); font-size:14px; }
#tooltip { position:fixed; pointer-events:none; background:#24292f; color:#fff; padding:6px 8px; border-radius:4px;
  font:12px/1.4 ui-monospace, monospace; max-width:560px; display:none; z-index:10; white-space:pre-wrap; }
#crashes-list a { color:var(--bad); }
.empty { color:var(--muted); font-style:italic; }
.warning { background:#fff8c5; border:1px solid #d4a72c; border-radius:4px; padding:4px 8px; margin:6px 0; font-size:13px; white-space:pre-wrap; }
`;

// Runs in the browser. Kept dependency-free and ES2017 so any Chromium/Firefox renders it offline.
const SCRIPT = String.raw`
(function () {
  var data = JSON.parse(document.getElementById('ustack-data').textContent);
  var tip = document.getElementById('tooltip');
  var ROW = 18;
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
  function hue(name) { var h = 0; for (var i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0; return h; }
  function color(name) { var h = hue(name); return 'hsl(' + (10 + h % 45) + ',' + (70 + h % 25) + '%,' + (58 + (h >> 8) % 14) + '%)'; }
  function depthOf(node) { var d = 0; for (var i = 0; i < node.children.length; i++) d = Math.max(d, depthOf(node.children[i])); return d + 1; }
  function statusClass(s) { return s === 'passed' ? 'status-passed' : s === 'failed' ? 'status-failed' : 'status-other'; }
  function statusIcon(s) { return s === 'passed' ? '\u2714' : s === 'failed' ? '\u2718' : '\u25CB'; }

  function showTip(ev, node, total) {
    var pct = total ? (100 * node.value / total).toFixed(1) : '0';
    var lines = [node.name, node.value + ' hit' + (node.value === 1 ? '' : 's') + ' (' + pct + '%)'];
    for (var i = 0; i < node.locations.length; i++) lines.push(node.locations[i][0] + (node.locations.length > 1 ? '  \u00d7' + node.locations[i][1] : ''));
    tip.textContent = lines.join('\n');
    tip.style.display = 'block';
    var x = Math.min(ev.clientX + 12, window.innerWidth - tip.offsetWidth - 8);
    tip.style.left = x + 'px'; tip.style.top = (ev.clientY + 14) + 'px';
  }
  function hideTip() { tip.style.display = 'none'; }

  // Draws the tree with the root at the bottom; 'focus' (a node on the path) spans the full width.
  function drawFlame(box, root, focusPath) {
    box.textContent = '';
    var depth = depthOf(root);
    box.style.height = (depth * ROW + 2) + 'px';
    var focus = focusPath[focusPath.length - 1];
    function place(node, level, left, width, onPath, parents) {
      if (width < 0.05) return;
      var d = el('div', 'frame' + (level === 0 ? ' root' : ''));
      d.textContent = level === 0 ? node.name + ' \u2014 all ' + node.value + ' hit' + (node.value === 1 ? '' : 's') : node.name;
      d.setAttribute('data-name', node.name);
      d.setAttribute('data-count', String(node.value));
      if (node.locations.length) d.setAttribute('data-location', node.locations[0][0]);
      d.style.left = left + '%'; d.style.width = width + '%';
      d.style.bottom = (level * ROW) + 'px';
      if (level > 0) d.style.background = color(node.name);
      d.addEventListener('mousemove', function (ev) { showTip(ev, node, root.value); });
      d.addEventListener('mouseleave', hideTip);
      d.addEventListener('click', function () { hideTip(); drawFlame(box, root, parents.concat([node])); });
      box.appendChild(d);
      var x = left;
      for (var i = 0; i < node.children.length; i++) {
        var c = node.children[i];
        if (onPath && focusPath.indexOf(node) < focusPath.length - 1) {
          // Ancestors of the focused node: only the next node on the path, at full width.
          if (c !== focusPath[focusPath.indexOf(node) + 1]) continue;
          place(c, level + 1, left, width, true, parents.concat([node]));
        } else {
          var w = width * c.value / node.value;
          place(c, level + 1, x, w, false, parents.concat([node]));
          x += w;
        }
      }
    }
    place(root, 0, 0, 100, focusPath.length > 1, []);
    return focus;
  }

  var main = document.getElementById('content');
  var crashList = document.getElementById('crashes-list');
  var crashCount = 0, graphCount = 0;
  data.files.forEach(function (file, fi) {
    var sec = el('section', 'file');
    var h2 = el('h2', statusClass(file.status), statusIcon(file.status) + ' ' + file.path);
    sec.appendChild(h2);
    if (file.failure) sec.appendChild(el('pre', null, file.failure));
    file.tests.forEach(function (test, ti) {
      var card = el('div', 'test');
      card.id = 'test-' + fi + '-' + ti;
      var h3 = el('h3', statusClass(test.status), statusIcon(test.status) + ' ' + test.name + (test.durationMs != null ? '  (' + test.durationMs + ' ms)' : ''));
      card.appendChild(h3);
      test.commands.forEach(function (c) { card.appendChild(el('div', 'cmd', '$ ' + c)); });
      if (!test.graphs.length && !test.crashes.length) card.appendChild(el('div', 'empty', 'no traced runs'));
      (test.warnings || []).forEach(function (w) { card.appendChild(el('div', 'warning', '\u26A0 ' + w)); });
      test.graphs.forEach(function (g) {
        var wrap = el('div', 'graph');
        var title = el('div', 'graph-title');
        title.appendChild(el('strong', null, g.hook));
        title.appendChild(document.createTextNode(' \u2014 ' + g.hits + ' hit' + (g.hits === 1 ? '' : 's')));
        var reset = el('button', null, 'reset zoom');
        title.appendChild(reset);
        wrap.appendChild(title);
        var box = el('div', 'flame');
        box.setAttribute('data-hook', g.hook);
        wrap.appendChild(box);
        if (g.hits) { drawFlame(box, g.tree, [g.tree]); graphCount++; }
        else { box.style.height = 'auto'; box.appendChild(el('div', 'empty', 'no hits')); }
        reset.addEventListener('click', function () { if (g.hits) drawFlame(box, g.tree, [g.tree]); });
        card.appendChild(wrap);
      });
      (test.calls || []).forEach(function (c) {
        var wrap = el('div', 'calls');
        wrap.appendChild(el('div', 'graph-title', c.hook + ': calls per path'));
        var table = el('table', 'calls-table');
        var tr = el('tr');
        c.header.forEach(function (h) { tr.appendChild(el('th', null, h)); });
        table.appendChild(tr);
        c.rows.forEach(function (row) {
          var r = el('tr');
          row.forEach(function (v, i) { r.appendChild(el('td', i >= 6 ? 'mono' : 'num', v)); });
          table.appendChild(r);
        });
        wrap.appendChild(table);
        card.appendChild(wrap);
      });
      test.crashes.forEach(function (c) {
        var div = el('div', 'crash');
        div.appendChild(el('h4', null, 'Crash: ' + c.title));
        div.appendChild(el('div', 'cmd', '$ ' + c.command));
        div.appendChild(el('pre', 'crash-stack', c.lines.join('\n')));
        card.appendChild(div);
        var li = el('li'); var a = el('a', null, file.path + ' \u203a ' + test.name + ': ' + c.title);
        a.href = '#' + card.id; li.appendChild(a); crashList.appendChild(li); crashCount++;
      });
      if (test.failure) {
        var det = el('details'); det.appendChild(el('summary', null, 'Failure message'));
        det.appendChild(el('pre', null, test.failure)); card.appendChild(det);
      }
      sec.appendChild(card);
    });
    main.appendChild(sec);
  });
  if (!crashCount) document.getElementById('crashes').style.display = 'none';
  document.body.setAttribute('data-rendered', String(graphCount));
})();
`;

export function renderHtml(report: UstackReport): string {
  const data = htmlData(report);
  const t = report.totals;
  const totals =
    `${t.tests} test${t.tests === 1 ? "" : "s"} in ${t.files} file${t.files === 1 ? "" : "s"} · ${t.passed} passed · ${t.failed} failed · ${t.skipped} skipped · ` +
    `${t.captures} traced runs · ${t.hits} hit${t.hits === 1 ? '' : 's'} · ${t.crashes} crash${t.crashes === 1 ? '' : 'es'}` +
    (data.shards.length ? ` · shards ${data.shards.join(', ')}` : '');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(report.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${escapeHtml(report.title)}</h1><div class="totals">${escapeHtml(totals)}</div>
<div class="totals">generated ${escapeHtml(report.createdAt)} by jest-ustack · hover a frame for its count and source, click to zoom</div></header>
<main>
<section id="crashes"><h2>Crashes</h2><ul id="crashes-list"></ul></section>
<div id="content"></div>
<noscript>This report draws its flame graphs with JavaScript; the same data is in report.json and summary.md.</noscript>
</main>
<div id="tooltip"></div>
<script type="application/json" id="ustack-data">${scriptJson(data)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

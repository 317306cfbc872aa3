// The Tidemark web UI: one page that polls the REST API (local/ui/rest-api.ts) and redraws
// what changed. The graph is laid out by dagre and drawn as SVG; the checkpoint timeline is a
// uPlot chart. Both libraries are served by the UI itself (no network needed).
'use strict';

const state = { job: null, tab: 'overview', token: null, refreshMs: 1000, chart: null, detail: null };

// The token comes in the URL the UI printed (like Jupyter's); it is kept for this tab only and
// taken out of the address bar.
(function takeToken() {
  const params = new URLSearchParams(location.search);
  const given = params.get('token');
  if (given) {
    sessionStorage.setItem('tidemark-token', given);
    params.delete('token');
    history.replaceState(null, '', location.pathname + (params.toString() ? `?${params}` : ''));
  }
  state.token = sessionStorage.getItem('tidemark-token');
})();

// ---- helpers ---------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) el.append(c instanceof Node ? c : document.createTextNode(c === null || c === undefined ? '' : String(c)));
  return el;
}

const $ = (sel) => document.querySelector(sel);
const fmtInt = (n) => (n === null || n === undefined ? '–' : Math.round(n).toLocaleString('en-US'));
const fmtRate = (n) => (n === null || n === undefined ? '–' : n >= 100 ? fmtInt(n) : n.toFixed(1));
const fmtMs = (n) => (n === null || n === undefined ? '–' : n < 1000 ? `${n} ms` : `${(n / 1000).toFixed(1)} s`);
const fmtTime = (t) => (t === null || t === undefined ? '–' : new Date(t).toLocaleTimeString('en-GB'));
function fmtBytes(n) {
  if (n === null || n === undefined) return '–';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
const MAX_WATERMARK = 8640000000000000;
function fmtWatermark(w) {
  if (w === null || w === undefined) return 'none';
  if (w >= MAX_WATERMARK) return 'end';
  const d = new Date(w);
  return Number.isNaN(d.getTime()) || w < 946684800000 ? String(w) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}

async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (state.token) headers.authorization = `Bearer ${state.token}`;
  const res = await fetch(`/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json().catch(() => ({ errors: [`HTTP ${res.status}`] }));
  if (!res.ok) throw new Error((json.errors ?? [`HTTP ${res.status}`]).join('; '));
  return json;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

function say(text, kind = 'info') {
  const m = $('#message');
  m.className = kind;
  m.textContent = text;
}

// ---- jobs overview ---------------------------------------------------------------------

async function refreshJobs() {
  const { jobs } = await api('GET', '/jobs/overview');
  if (!state.job && jobs.length > 0) selectJob(jobs[0].jid);
  fill($('#jobs tbody'), jobs.map((j) =>
    h('tr', { class: j.jid === state.job ? 'selected' : '', 'data-job': j.jid, onclick: () => selectJob(j.jid) },
      h('td', {}, j.name), h('td', {}, h('span', { class: `state ${j.state}` }, j.state)), h('td', {}, j.generation),
      h('td', {}, j.uptime === null ? '–' : fmtMs(j.uptime)), h('td', {}, j['last-checkpoint'] ?? '–'), h('td', {}, j.restarts))));
  if (jobs.length === 0) fill($('#jobs tbody'), [h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'no jobs on this target yet'))]);
}

function selectJob(jid) {
  if (state.job === jid) return;
  state.job = jid;
  state.detail = null;
  if (state.chart) { state.chart.destroy(); state.chart = null; }
  $('#job-panel').hidden = false;
  refresh();
}

// ---- one job ---------------------------------------------------------------------------

async function refreshJob() {
  const job = await api('GET', `/jobs/${encodeURIComponent(state.job)}`);
  $('#job-name').textContent = job.name;
  const st = $('#job-state');
  st.textContent = job.state;
  st.className = `state ${job.state}`;
  const uptime = job.uptime === null ? '' : `, up ${fmtMs(job.uptime)}`;
  $('#job-summary').textContent = `generation ${job.generation} from ${job.origin}${uptime}; restarts ${job.restarts}; last completed checkpoint ${job.lastCheckpoint ?? '–'}${job.detail ? ` — ${job.detail}` : ''}`;
  for (const b of document.querySelectorAll('[data-action]')) {
    const needsRunning = b.dataset.action !== 'restore';
    b.disabled = !state.token || (needsRunning && job.state !== 'RUNNING') || (!needsRunning && !job.jobFile);
  }
  if (state.tab === 'overview') drawOverview(job);
}

function drawOverview(job) {
  if (!job.vertices) {
    $('#graph').replaceChildren();
    $('#graph-note').textContent = 'The UI does not know this job\'s file, so it cannot draw its graph: start it as tidemark ui <job.ts>.';
    fill($('#vertices tbody'), []);
    return;
  }
  $('#graph-note').textContent = job.vertices[0]?.metrics.asOfCheckpoint ? `records and watermarks as of checkpoint ${job.vertices[0].metrics.asOfCheckpoint}; queue depth now` : 'records and watermarks appear with the first completed checkpoint; queue depth now';
  drawGraph(job);
  fill($('#vertices tbody'), job.vertices.map((v) =>
    h('tr', { 'data-vertex': v.id },
      h('td', {}, v.id), h('td', {}, v.operators.join(' → ')), h('td', {}, v.parallelism),
      h('td', {}, h('span', { class: `bp ${v.backpressure}` }, `${v.queue.visible + v.queue.inFlight} (${v.backpressure})`)),
      h('td', {}, fmtInt(v.metrics['read-records'])), h('td', {}, fmtInt(v.metrics['write-records'])),
      h('td', {}, fmtRate(v.metrics['read-records-per-second'])), h('td', {}, fmtRate(v.metrics['write-records-per-second'])),
      h('td', {}, v.subtasks.map((s) => `${s.subtask}: ${fmtWatermark(s.watermark)}`).join(', ')))));
}

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs ?? {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** The stages as boxes and their edges, laid out left to right by dagre. */
function drawGraph(job) {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 30, ranksep: 90, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const v of job.vertices) g.setNode(v.id, { width: 240, height: 104, vertex: v });
  for (const n of job.plan.nodes) for (const i of n.inputs) g.setEdge(i.id, n.id, { label: i.ship_strategy + (i.port === 'main' ? '' : ` (${i.port})`), width: 90, height: 16 }, `${i.id}>${n.id}>${i.port}`);
  dagre.layout(g);
  const { width, height } = g.graph();
  const svg = s('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `job graph of ${job.name}` },
    s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' }, s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow' }))));
  for (const e of g.edges()) {
    const edge = g.edge(e);
    const d = edge.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x},${p.y}`).join(' ');
    svg.append(s('g', { class: 'edge' }, s('path', { d, 'marker-end': 'url(#arrow)' }), s('text', { x: edge.x, y: edge.y + 4, 'text-anchor': 'middle' }, edge.label)));
  }
  for (const id of g.nodes()) {
    const n = g.node(id);
    const v = n.vertex;
    const x = n.x - n.width / 2;
    const y = n.y - n.height / 2;
    const lines = [
      `${v.operators.join(' → ')}`,
      `parallelism ${v.parallelism} · queue ${v.queue.visible + v.queue.inFlight} (${v.backpressure})`,
      `in ${fmtRate(v.metrics['read-records-per-second'])}/s · out ${fmtRate(v.metrics['write-records-per-second'])}/s`,
      `watermark ${fmtWatermark(v.watermark)}`,
    ];
    svg.append(s('g', { class: `node bp-${v.backpressure}`, 'data-stage': v.id },
      s('rect', { x, y, width: n.width, height: n.height, rx: 6 }),
      s('text', { x: x + 10, y: y + 20, class: 'title' }, v.id),
      ...lines.map((l, i) => s('text', { x: x + 10, y: y + 40 + i * 16 }, l.length > 38 ? `${l.slice(0, 37)}…` : l))));
  }
  $('#graph').replaceChildren(svg);
}

// ---- checkpoints -----------------------------------------------------------------------

async function refreshCheckpoints() {
  const stats = await api('GET', `/jobs/${encodeURIComponent(state.job)}/checkpoints`);
  const c = stats.counts;
  $('#checkpoint-counts').replaceChildren(...[['triggered', c.triggered], ['in progress', c.inProgress], ['completed', c.completed], ['failed', c.failed], ['restored', c.restored]]
    .map(([k, v]) => h('span', { class: 'count', 'data-count': k.replace(' ', '-') }, h('b', {}, v), ` ${k}`)));
  const d = stats.summary.endToEndDuration;
  const z = stats.summary.checkpointedSize;
  const restore = stats.latestRestore ? `; latest restore: generation ${stats.latestRestore.generation} from ${stats.latestRestore.savepoint ? `savepoint ${stats.latestRestore.savepoint}` : `checkpoint ${stats.latestRestore.checkpoint}`}` : '';
  $('#checkpoint-summary').textContent = d && z ? `completed: duration min ${fmtMs(d.min)} / avg ${fmtMs(Math.round(d.avg))} / max ${fmtMs(d.max)}; size min ${fmtBytes(z.min)} / avg ${fmtBytes(Math.round(z.avg))} / max ${fmtBytes(z.max)}${restore}` : `no completed checkpoint yet${restore}`;
  fill($('#checkpoint-history tbody'), stats.history.map((x) =>
    h('tr', { 'data-testid': 'checkpoint-row', 'data-status': x.status, class: state.detail === x.id ? 'selected' : '', onclick: () => showDetail(x.id) },
      h('td', {}, x.id), h('td', {}, h('span', { class: `state ${x.status}` }, x.status + (x.discarded ? ' (discarded)' : ''))),
      h('td', {}, x.isSavepoint ? `savepoint ${x.savepoint}${x.stop ? ' (stop)' : ''}` : 'checkpoint'), h('td', {}, x.generation),
      h('td', {}, fmtTime(x.triggerTimestamp)), h('td', {}, `${x.numAcknowledgedSubtasks}/${x.numSubtasks}`),
      h('td', {}, fmtMs(x.endToEndDuration)), h('td', {}, fmtBytes(x.checkpointedSize)), h('td', {}, x.failureReason ?? ''))));
  $('#checkpoint-config').textContent = stats.config ? JSON.stringify(stats.config, null, 2) : '(known from the job file: start the UI with it)';
  drawTimeline(stats.history.filter((x) => x.status === 'COMPLETED').slice().reverse());
  if (state.detail !== null) await refreshDetail();
}

/** Durations and sizes of completed checkpoints, oldest first. */
function drawTimeline(completed) {
  const data = [completed.map((x) => x.id), completed.map((x) => x.endToEndDuration), completed.map((x) => x.checkpointedSize)];
  const width = Math.max(300, $('#checkpoint-chart').clientWidth || 800);
  if (!state.chart) {
    state.chart = new uPlot({
      width, height: 220, title: 'completed checkpoints: duration and size',
      scales: { x: { time: false }, bytes: {} },
      axes: [{ label: 'checkpoint', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] }, { label: 'duration (ms)' }, { side: 1, scale: 'bytes', label: 'size', size: 80, labelGap: 8, grid: { show: false }, values: (_, ticks) => ticks.map(fmtBytes) }],
      series: [{ label: 'checkpoint' }, { label: 'duration (ms)', stroke: '#2a6fdb', width: 2, points: { show: true } }, { label: 'size', scale: 'bytes', stroke: '#d9822b', width: 2, points: { show: true }, value: (_, v) => fmtBytes(v) }],
    }, data, $('#checkpoint-chart'));
  } else state.chart.setData(data);
}

function showDetail(id) {
  state.detail = id;
  refreshDetail().catch((e) => say(e.message, 'error'));
}

async function refreshDetail() {
  const d = await api('GET', `/jobs/${encodeURIComponent(state.job)}/checkpoints/details/${state.detail}`);
  $('#checkpoint-detail').replaceChildren(
    h('h3', {}, `Checkpoint ${d.id}: ${d.status}, ${d.numAcknowledgedSubtasks}/${d.numSubtasks} subtasks, ${fmtBytes(d.checkpointedSize)}`),
    h('table', { 'data-testid': 'checkpoint-detail' },
      h('thead', {}, h('tr', {}, ...['subtask', 'acknowledged', 'end to end', 'start delay', 'alignment', 'sync', 'async', 'size', 'full size', 'chained'].map((t) => h('th', {}, t)))),
      h('tbody', {}, ...d.subtasks.map((x) => h('tr', {},
        h('td', {}, x.subtask), h('td', {}, x.acknowledged ? fmtTime(x.ackTimestamp) : 'no'), h('td', {}, fmtMs(x.endToEndDuration)), h('td', {}, fmtMs(x.startDelay)),
        h('td', {}, fmtMs(x.alignmentDuration)), h('td', {}, fmtMs(x.syncDuration)), h('td', {}, fmtMs(x.asyncDuration)),
        h('td', {}, fmtBytes(x.checkpointedSize)), h('td', {}, fmtBytes(x.stateSize)), h('td', {}, x.chained ?? '–'))))));
}

// ---- exceptions and savepoints ---------------------------------------------------------

async function refreshExceptions() {
  const x = await api('GET', `/jobs/${encodeURIComponent(state.job)}/exceptions`);
  const entries = x.exceptionHistory.entries;
  $('#exceptions').replaceChildren(
    h('p', {}, `restarts ${x.restarts}; generation ${x.generation} from ${x.origin}${x.detail ? `; ${x.detail}` : ''}`),
    entries.length === 0 ? h('p', { class: 'muted' }, 'no failure so far') :
      h('div', {}, ...entries.map((e) => h('div', { class: 'exception' },
        h('h3', {}, `${e.exceptionName} at ${fmtTime(e.timestamp)}${e.taskName ? ` in ${e.taskName}` : ''}${e.location ? ` (subtask ${e.location})` : ''}`), h('pre', {}, e.stacktrace)))),
    x.failureTimes.length > 0 ? h('p', {}, `failovers at ${x.failureTimes.map(fmtTime).join(', ')}`) : '',
    x.exceptionHistory.truncated ? h('p', { class: 'muted' }, 'earlier failures: only the latest is kept in full') : '');
}

async function refreshSavepoints() {
  const { savepoints } = await api('GET', `/jobs/${encodeURIComponent(state.job)}/savepoints`);
  fill($('#savepoints tbody'), savepoints.length === 0 ? [h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'no savepoints yet'))] :
    savepoints.map((sp) => h('tr', { 'data-testid': 'savepoint-row', 'data-name': sp.name, 'data-status': sp.status },
      h('td', {}, sp.name + (sp.stop ? ' (stop)' : '')), h('td', {}, sp.checkpoint), h('td', {}, sp.generation),
      h('td', {}, h('span', { class: `state ${sp.status}` }, sp.status)), h('td', {}, fmtTime(sp.triggeredAt)), h('td', { class: 'location' }, sp.location))));
}

// ---- actions ---------------------------------------------------------------------------

const ACTIONS = {
  savepoint: { ask: (j) => `Take a savepoint of ${j}? (tidemark savepoint)`, name: true },
  stop: { ask: (j) => `Stop ${j} with a savepoint? Its sources stop, the sinks commit and the job ends STOPPED. (tidemark stop)`, name: true },
  cancel: { ask: (j) => `Cancel ${j} now, without a savepoint? (tidemark cancel)` },
  restore: { ask: (j) => `Restore ${j} into a new generation? (tidemark restore)`, from: true },
};

function confirmAction(action, job) {
  const dialog = $('#confirm');
  $('#confirm-text').textContent = ACTIONS[action].ask(job);
  $('#confirm-from-label').hidden = !ACTIONS[action].from;
  $('#confirm-name-label').hidden = !ACTIONS[action].name;
  $('#confirm-name').value = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok' ? { from: $('#confirm-from').value.trim(), name: $('#confirm-name').value.trim() } : null), { once: true });
    dialog.showModal();
  });
}

async function act(action) {
  const job = state.job;
  const answer = await confirmAction(action, job);
  if (!answer) return;
  const path = `/jobs/${encodeURIComponent(job)}`;
  try {
    if (action === 'savepoint' || action === 'stop') {
      const r = await api('POST', `${path}/${action === 'stop' ? 'stop' : 'savepoints'}`, answer.name ? { name: answer.name } : {});
      say(`${action === 'stop' ? 'stop' : 'savepoint'} ${r.name} requested; waiting for it…`);
      await follow(job, r['request-id']);
    } else if (action === 'cancel') {
      const r = await api('PATCH', `${path}?mode=cancel`);
      say(`job ${job} CANCELED (generation ${r.generation})${r.latestCheckpoint !== null ? `; latest completed checkpoint ${r.latestCheckpoint} kept` : ''}`);
    } else {
      const r = await api('POST', `${path}/restore`, { from: answer.from || 'latest' });
      say(`job ${job}: generation ${r.generation} ${r.status}, restored from ${r.from}`);
    }
  } catch (e) {
    say(e.message, 'error');
  }
  refresh();
}

async function follow(job, requestId) {
  for (;;) {
    const op = await api('GET', `/jobs/${encodeURIComponent(job)}/savepoints/${requestId}`);
    if (op.status.id === 'COMPLETED') {
      const r = op.operation;
      if (r['failure-cause']) say(`savepoint ${op.name} failed: ${r['failure-cause'].message}`, 'error');
      else say(`savepoint ${r.name}: checkpoint ${r.checkpoint}, at ${r.location}${op.stop ? `; job ${r.status}` : ''}`, 'ok');
      return;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

// ---- wiring ----------------------------------------------------------------------------

function showTab(tab) {
  state.tab = tab;
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.tab === tab);
  for (const p of document.querySelectorAll('[data-pane]')) p.hidden = p.dataset.pane !== tab;
  refresh();
}

let refreshing = false;
async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    await refreshJobs();
    if (state.job) {
      await refreshJob();
      if (state.tab === 'checkpoints') await refreshCheckpoints();
      if (state.tab === 'exceptions') await refreshExceptions();
      if (state.tab === 'savepoints') await refreshSavepoints();
    }
    $('#updated').textContent = `updated ${fmtTime(Date.now())}`;
  } catch (e) {
    $('#updated').textContent = `update failed: ${e.message}`;
  } finally {
    refreshing = false;
  }
}

async function start() {
  const config = await api('GET', '/config');
  state.refreshMs = config['refresh-interval'];
  $('#target').textContent = config.target;
  const access = $('#access');
  access.textContent = state.token ? 'token: actions enabled' : 'read-only (open the URL with the token to act)';
  access.classList.add(state.token ? 'ok' : 'muted');
  for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => showTab(b.dataset.tab));
  for (const b of document.querySelectorAll('[data-action]')) b.addEventListener('click', () => act(b.dataset.action));
  await refresh();
  setInterval(refresh, state.refreshMs);
}

start().catch((e) => say(e.message, 'error'));

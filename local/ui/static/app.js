// The Tidemark web UI: one page that polls the REST API (local/ui/rest-api.ts) every second and
// redraws: the jobs, one job's overview (graph.js), checkpoints (checkpoints.js), exceptions and
// savepoints, and the buttons that act on it. ui-kit.js holds the helpers; dagre and uPlot are
// served by the UI itself (no network needed). Loaded last: it starts the page.
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

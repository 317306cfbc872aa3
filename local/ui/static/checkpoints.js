// The checkpoints tab of the web UI: counts, the timeline chart of durations and sizes (uPlot),
// the summary, the history and, for the row clicked, the per-subtask detail.
'use strict';

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

// The job graph of the web UI: stages as boxes (chained operators, parallelism, queue depth as
// backpressure, rates, watermark) and edges labelled with their partitioning, laid out left to
// right by dagre and drawn as SVG.
'use strict';

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

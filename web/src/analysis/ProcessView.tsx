import { useId, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import dagre from "@dagrejs/dagre";
import type { DFGEdge, DFGNode, DFGResult } from "../data/api";
import { dayEnd, dayStart, formatCount, formatDuration } from "../data/format";
import { DateField, Status, useData, useQuery } from "./common";

// minCountFor maps the threshold slider (0..100) to the least edge count
// shown, on a logarithmic scale: event logs have a few very frequent
// edges and a long tail, and a linear slider would drop the tail at once.
export function minCountFor(slider: number, maxCount: number): number {
  if (slider <= 0 || maxCount <= 1) return 1;
  return Math.max(1, Math.round(Math.exp((Math.log(maxCount) * Math.min(100, slider)) / 100)));
}

// filterGraph keeps the edges at or above minCount and the nodes they
// touch.
export function filterGraph(r: DFGResult, minCount: number): { nodes: DFGNode[]; edges: DFGEdge[] } {
  const edges = r.edges.filter((e) => e.count >= minCount);
  const used = new Set(edges.flatMap((e) => [e.from, e.to]));
  const nodes = r.nodes.filter((n) => used.has(n.event) || (edges.length === 0 && n.count >= minCount));
  return { nodes, edges };
}

export interface Laid {
  width: number;
  height: number;
  nodes: { node: DFGNode; x: number; y: number; w: number; h: number }[];
  edges: { edge: DFGEdge; points: { x: number; y: number }[]; lx: number; ly: number; loop: boolean }[];
}

const NODE_H = 46;

// layout places the graph with dagre, which keeps the main flow straight
// and routes the back edges of loops around it.
export function layout(nodes: DFGNode[], edges: DFGEdge[]): Laid {
  const g = new dagre.graphlib.Graph({ multigraph: false });
  // Top to bottom, as process-mining tools draw it: event names are wider
  // than tall, so the graph fits the page's width and scrolls down.
  g.setGraph({ rankdir: "TB", nodesep: 30, ranksep: 56, edgesep: 14, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.event, { width: Math.max(110, n.event.length * 7.5 + 24), height: NODE_H });
  // A self-loop (a repeated event) is drawn beside its node, not routed.
  for (const e of edges) if (e.from !== e.to) g.setEdge(e.from, e.to, { width: 40, height: 14, labelpos: "c" });
  dagre.layout(g);
  const gl = g.graph();
  return {
    width: Math.ceil(gl.width ?? 0),
    height: Math.ceil(gl.height ?? 0),
    nodes: nodes.map((n) => {
      const p = g.node(n.event);
      return { node: n, x: p.x, y: p.y, w: p.width, h: p.height };
    }),
    edges: edges.map((e) => {
      if (e.from === e.to) {
        const n = g.node(e.from);
        const [x, y] = [n.x + n.width / 2, n.y];
        const points = [
          { x, y: y - 8 },
          { x: x + 26, y: y - 18 },
          { x: x + 26, y: y + 18 },
          { x: x + 1, y: y + 8 },
        ];
        return { edge: e, points, lx: x + 30, ly: y, loop: true };
      }
      const p = g.edge(e.from, e.to) as { points: { x: number; y: number }[]; x?: number; y?: number };
      const mid = p.points[Math.floor(p.points.length / 2)];
      return { edge: e, points: p.points, lx: p.x ?? mid.x, ly: p.y ?? mid.y, loop: false };
    }),
  };
}

// timeColour goes from green (fast) to red (slow) by the logarithm of the
// median time, relative to the graph's fastest and slowest edges.
export function timeColour(seconds: number | null, min: number, max: number): string {
  if (seconds === null) return "var(--muted)";
  const l = (x: number) => Math.log10(Math.max(1, x));
  const f = max > min ? (l(seconds) - l(min)) / (l(max) - l(min) || 1) : 0;
  const hue = Math.round(130 * (1 - Math.max(0, Math.min(1, f))));
  return `hsl(${hue} 70% 42%)`;
}

function path(points: { x: number; y: number }[], loop: boolean): string {
  if (points.length === 0) return "";
  if (loop) {
    const [a, b, c, d] = points;
    return `M${a.x},${a.y} C${b.x},${b.y} ${c.x},${c.y} ${d.x},${d.y}`;
  }
  let d = `M${points[0].x},${points[0].y}`;
  for (let i = 1; i < points.length - 1; i++) {
    const mx = (points[i].x + points[i + 1].x) / 2;
    const my = (points[i].y + points[i + 1].y) / 2;
    d += ` Q${points[i].x},${points[i].y} ${mx},${my}`;
  }
  const last = points[points.length - 1];
  return d + ` L${last.x},${last.y}`;
}

// ProcessView draws the directly-follows graph: edge width by frequency,
// colour by median time, and a threshold slider for rare edges.
export function ProcessView({ params }: { params: URLSearchParams }) {
  const { t, i18n } = useTranslation(["data", "translation"]);
  const lang = i18n.language;
  const data = useData();
  const [from, setFrom] = useState(params.get("from") ?? "");
  const [to, setTo] = useState(params.get("to") ?? "");
  const [slider, setSlider] = useState(Number(params.get("threshold") ?? 55));
  const ids = { s: useId(), arrow: useId() };
  const q = { from: dayStart(from), to: dayEnd(to) };
  const { result, error, loading } = useQuery<DFGResult>(JSON.stringify(q), () => data.dfg(q));
  const maxCount = result?.edges.reduce((m, e) => Math.max(m, e.count), 0) ?? 0;
  const minCount = minCountFor(slider, maxCount);
  const laid = useMemo(() => {
    if (!result) return null;
    const g = filterGraph(result, minCount);
    return layout(g.nodes, g.edges);
  }, [result, minCount]);
  const medians = laid?.edges.map((e) => e.edge.medianSeconds).filter((x): x is number => x !== null) ?? [];
  const [minT, maxT] = [Math.min(...medians, Infinity), Math.max(...medians, 0)];
  const maxShown = laid?.edges.reduce((m, e) => Math.max(m, e.edge.count), 1) ?? 1;
  const width = (c: number) => 1 + 9 * Math.sqrt(c / maxShown);

  return (
    <div className="stack">
      <div className="query-bar row">
        <div className="field grow">
          <label htmlFor={ids.s}>{t("process.threshold")}</label>
          <input
            id={ids.s}
            type="range"
            min={0}
            max={100}
            value={slider}
            onChange={(e) => setSlider(Number(e.target.value))}
            aria-valuetext={t("process.minCount", { n: formatCount(minCount, lang) })}
          />
          <span className="small muted">{t("process.minCount", { n: formatCount(minCount, lang) })}</span>
        </div>
        <DateField label={t("overlay.from")} value={from} onChange={setFrom} />
        <DateField label={t("overlay.to")} value={to} onChange={setTo} />
      </div>
      <Status error={error} loading={loading} />
      {result && laid && (
        <>
          <p>
            {t("process.summary", {
              nodes: formatCount(laid.nodes.length, lang),
              allNodes: formatCount(result.nodes.length, lang),
              edges: formatCount(laid.edges.length, lang),
              allEdges: formatCount(result.edges.length, lang),
              customers: formatCount(result.customers, lang),
            })}
          </p>
          <p className="legend small">
            <span className="swatch" style={{ background: timeColour(minT, minT, maxT) }} /> {t("process.fast")}{" "}
            <span className="swatch" style={{ background: timeColour(maxT, minT, maxT) }} /> {t("process.slow")} · {t("process.widthNote")}
          </p>
          <div className="graph-scroll">
            <svg
              className="dfg"
              width={laid.width + 40}
              height={laid.height}
              viewBox={`0 0 ${laid.width + 40} ${laid.height}`}
              role="img"
              aria-label={t("process.chart")}
            >
              <defs>
                {/* In user units, so arrows keep their size on thick edges. */}
                <marker
                  id={ids.arrow}
                  viewBox="0 0 10 10"
                  refX="9"
                  refY="5"
                  markerWidth="10"
                  markerHeight="10"
                  markerUnits="userSpaceOnUse"
                  orient="auto-start-reverse"
                >
                  <path d="M0,0 L10,5 L0,10 z" fill="var(--muted)" />
                </marker>
              </defs>
              {laid.edges.map(({ edge, points, lx, ly, loop }) => (
                <g key={`${edge.from}>${edge.to}`} className="dfg-edge">
                  <title>
                    {t("process.edgeTitle", {
                      from: edge.from,
                      to: edge.to,
                      count: formatCount(edge.count, lang),
                      median: formatDuration(edge.medianSeconds, lang),
                      p90: formatDuration(edge.p90Seconds, lang),
                    })}
                  </title>
                  <path
                    d={path(points, loop)}
                    fill="none"
                    stroke={timeColour(edge.medianSeconds, minT, maxT)}
                    strokeWidth={width(edge.count)}
                    strokeOpacity={0.8}
                    markerEnd={`url(#${ids.arrow})`}
                  />
                  <text x={lx} y={ly} className="dfg-edge-label" textAnchor={loop ? "start" : "middle"} dominantBaseline="middle">
                    {formatCount(edge.count, lang)}
                  </text>
                </g>
              ))}
              {laid.nodes.map(({ node, x, y, w, h }) => (
                <g key={node.event} className="dfg-node" data-event={node.event}>
                  <rect x={x - w / 2} y={y - h / 2} width={w} height={h} rx={8} />
                  <text x={x} y={y - 6} textAnchor="middle" className="dfg-node-name">
                    {node.event}
                  </text>
                  <text x={x} y={y + 12} textAnchor="middle" className="dfg-node-count">
                    {formatCount(node.count, lang)}
                  </text>
                </g>
              ))}
            </svg>
          </div>
          <details>
            <summary>{t("process.edges")}</summary>
            <table className="data-table" aria-label={t("process.edgeTable")}>
              <thead>
                <tr>
                  <th scope="col">{t("paths.fromCol")}</th>
                  <th scope="col">{t("paths.toCol")}</th>
                  <th scope="col">{t("process.count")}</th>
                  <th scope="col">{t("variants.median")}</th>
                  <th scope="col">{t("variants.p90")}</th>
                </tr>
              </thead>
              <tbody>
                {laid.edges.map(({ edge }) => (
                  <tr key={`${edge.from}>${edge.to}`}>
                    <td>{edge.from}</td>
                    <td>{edge.to}</td>
                    <td>{formatCount(edge.count, lang)}</td>
                    <td>{formatDuration(edge.medianSeconds, lang)}</td>
                    <td>{formatDuration(edge.p90Seconds, lang)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </div>
  );
}

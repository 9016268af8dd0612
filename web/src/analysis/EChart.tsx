import { useEffect, useRef } from "react";
import * as echarts from "echarts/core";
import { BarChart, LineChart, SankeyChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer, SVGRenderer } from "echarts/renderers";

echarts.use([BarChart, LineChart, SankeyChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer, SVGRenderer]);

export type { ChartOption } from "./theme";
import type { ChartOption } from "./theme";

// canvasWorks tells a real browser from a test DOM without a 2D canvas;
// the latter gets the SVG renderer, which needs no canvas.
function canvasWorks(): boolean {
  try {
    return Boolean(document.createElement("canvas").getContext("2d"));
  } catch {
    return false;
  }
}

// EChart draws an Apache ECharts option in a box that resizes with the
// page. The chart is an image to assistive technology, named by label;
// every view shows the same numbers in a table beside it.
export function EChart({ option, label, height = 320 }: { option: ChartOption; label: string; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const svg = !canvasWorks();
    const c = echarts.init(el, undefined, {
      renderer: svg ? "svg" : "canvas",
      // A test DOM has no layout; give the chart a size of its own there.
      ...(el.clientWidth === 0 ? { width: 800, height } : {}),
    });
    chart.current = c;
    const ro = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(() => c.resize());
    ro?.observe(el);
    return () => {
      ro?.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, [height]);

  useEffect(() => {
    // Without animation a chart shows its numbers at once, and a
    // screenshot or a test sees the final picture.
    chart.current?.setOption({ animation: false, ...option }, true);
  }, [option]);

  return <div ref={box} className="echart" role="img" aria-label={label} style={{ height }} />;
}

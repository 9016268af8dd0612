import { useRef, useState, type KeyboardEvent, type PointerEvent } from "react";
import { useTranslation } from "react-i18next";
import { EMOTION_MAX, EMOTION_MIN } from "./model";

export interface CurvePoint {
  stepId: string;
  stepName: string;
  score: number | null; // null: the step has no emotion yet
  x: number; // centre of the step's column, in pixels from the curve's left
}

interface Props {
  points: CurvePoint[];
  width: number;
  height?: number;
  // onChange is called once per finished gesture (a drop, a key press), so
  // that each is one step of undo.
  onChange?: (stepId: string, score: number | null) => void;
}

const PAD = 18;

// scoreAt turns a pointer's height over the curve into the nearest score.
export function scoreAt(y: number, height: number): number {
  const unit = (height - 2 * PAD) / (EMOTION_MAX - EMOTION_MIN);
  const s = Math.round(EMOTION_MAX - (y - PAD) / unit);
  return Math.min(EMOTION_MAX, Math.max(EMOTION_MIN, s));
}

export function yOf(score: number, height: number): number {
  const unit = (height - 2 * PAD) / (EMOTION_MAX - EMOTION_MIN);
  return PAD + (EMOTION_MAX - score) * unit;
}

// EmotionCurve draws how the persona feels across the steps: a line through
// one point per step, from very negative at the bottom to very positive at
// the top. Each point is a slider: drag it, or focus it and use the arrow
// keys (Up/Down change the score, Left/Right go to the neighbouring step,
// Delete clears it).
export function EmotionCurve({ points, width, height = 132, onChange }: Props) {
  const { t } = useTranslation("editor");
  const { t: tc } = useTranslation();
  const svg = useRef<SVGSVGElement>(null);
  const [drag, setDrag] = useState<{ stepId: string; score: number } | null>(null);
  const editable = Boolean(onChange);

  const shown = points.map((p) => (drag && drag.stepId === p.stepId ? { ...p, score: drag.score } : p));
  const set = shown.filter((p) => p.score !== null);
  const path = set.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)},${yOf(p.score!, height).toFixed(1)}`).join(" ");

  const yFromEvent = (e: PointerEvent) => {
    const r = svg.current!.getBoundingClientRect();
    // The drawing is not scaled, so client pixels are drawing units.
    return e.clientY - r.top;
  };
  const onDown = (e: PointerEvent, p: CurvePoint) => {
    if (!editable) return;
    e.preventDefault();
    (e.currentTarget as Element).setPointerCapture?.(e.pointerId);
    (e.currentTarget as SVGGElement).focus();
    setDrag({ stepId: p.stepId, score: p.score ?? 0 });
  };
  const onMove = (e: PointerEvent) => {
    if (!drag) return;
    const s = scoreAt(yFromEvent(e), height);
    if (s !== drag.score) setDrag({ ...drag, score: s });
  };
  const onUp = (e: PointerEvent) => {
    if (!drag) return;
    const s = scoreAt(yFromEvent(e), height);
    const before = points.find((p) => p.stepId === drag.stepId)?.score;
    setDrag(null);
    if (s !== before) onChange!(drag.stepId, s);
  };
  const onKey = (e: KeyboardEvent, p: CurvePoint, i: number) => {
    const cur = p.score;
    let next: number | null | undefined;
    switch (e.key) {
      case "ArrowUp":
        next = Math.min(EMOTION_MAX, (cur ?? -1) + 1);
        break;
      case "ArrowDown":
        next = Math.max(EMOTION_MIN, (cur ?? 1) - 1);
        break;
      case "Home":
        next = EMOTION_MIN;
        break;
      case "End":
        next = EMOTION_MAX;
        break;
      case "Delete":
      case "Backspace":
        next = null;
        break;
      case "ArrowLeft":
      case "ArrowRight": {
        e.preventDefault();
        const j = i + (e.key === "ArrowLeft" ? -1 : 1);
        const all = svg.current?.querySelectorAll<SVGGElement>("[role=slider]");
        all?.[j]?.focus();
        return;
      }
      default:
        return;
    }
    e.preventDefault();
    if (editable && next !== cur) onChange!(p.stepId, next);
  };

  const label = (s: number | null) => (s === null ? t("emotion.unset") : tc("emotion.score", { label: tc(`emotion.${s}`), score: s > 0 ? `+${s}` : s }));

  return (
    <svg
      ref={svg}
      className={`emotion-curve ${editable ? "editable" : ""}`}
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="group"
      aria-label={t("emotion.curve")}
      onPointerMove={onMove}
      onPointerUp={onUp}
      onPointerCancel={() => setDrag(null)}
    >
      {[EMOTION_MAX, 0, EMOTION_MIN].map((s) => (
        <line key={s} className={s === 0 ? "axis zero" : "axis"} x1={0} x2={width} y1={yOf(s, height)} y2={yOf(s, height)} />
      ))}
      <path className="curve" d={path} fill="none" />
      {shown.map((p, i) => {
        const s = p.score;
        const y = yOf(s ?? 0, height);
        const cls = s === null ? "unset" : s > 0 ? "pos" : s < 0 ? "neg" : "zero";
        return (
          <g
            key={p.stepId}
            className={`point ${cls} ${drag?.stepId === p.stepId ? "dragging" : ""}`}
            role="slider"
            tabIndex={editable ? 0 : -1}
            aria-label={t("emotion.at", { step: p.stepName })}
            aria-valuemin={EMOTION_MIN}
            aria-valuemax={EMOTION_MAX}
            aria-valuenow={s ?? undefined}
            aria-valuetext={label(s)}
            aria-readonly={editable ? undefined : true}
            data-step={p.stepId}
            onPointerDown={(e) => onDown(e, p)}
            onKeyDown={(e) => onKey(e, p, i)}
          >
            <circle className="hit" cx={p.x} cy={y} r={14} />
            <circle className="dot" cx={p.x} cy={y} r={7} />
            <title>{`${p.stepName}: ${label(s)}`}</title>
          </g>
        );
      })}
    </svg>
  );
}

import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import type { JourneyMap } from "../api";
import { lanesOf } from "../map/lanes";
import { ChannelIcon } from "../map/channelIcons";
import { itemsOf } from "./model";

// Presentation shows a map stage by stage, full screen, for a workshop or
// a review: the arrow keys (or Page Up/Down, Space) go through the stages,
// Home and End jump to the first and last, Escape leaves.
export function Presentation({ map, onClose }: { map: JourneyMap; onClose: () => void }) {
  const { t } = useTranslation("editor");
  const { t: tc } = useTranslation();
  const [i, setI] = useState(0);
  const box = useRef<HTMLDivElement>(null);
  const close = useRef(onClose);
  close.current = onClose;
  const n = map.stages.length;
  const go = (j: number) => setI(Math.max(0, Math.min(n - 1, j)));

  useEffect(() => {
    const el = box.current;
    const opener = document.activeElement as HTMLElement | null;
    el?.focus();
    // Full screen where the browser allows it; the overlay covers the
    // window either way.
    el?.requestFullscreen?.().catch(() => {});
    const onFs = () => {
      if (!document.fullscreenElement) close.current();
    };
    document.addEventListener("fullscreenchange", onFs);
    return () => {
      document.removeEventListener("fullscreenchange", onFs);
      if (document.fullscreenElement) void document.exitFullscreen?.().catch(() => {});
      opener?.focus?.();
    };
  }, []);

  const onKey = (e: React.KeyboardEvent) => {
    // Space and Enter on a button press that button.
    if ((e.key === " " || e.key === "Enter") && (e.target as HTMLElement).closest("button")) return;
    if (e.key === "Tab") {
      // Keep the focus inside: the page behind is covered.
      const all = Array.from(box.current?.querySelectorAll<HTMLButtonElement>("button:not([disabled])") ?? []);
      const at = all.indexOf(document.activeElement as HTMLButtonElement);
      const next = e.shiftKey ? (at <= 0 ? all.length - 1 : at - 1) : at === all.length - 1 ? 0 : at + 1;
      all[next]?.focus();
      e.preventDefault();
      return;
    }
    switch (e.key) {
      case "ArrowRight":
      case "ArrowDown":
      case "PageDown":
      case " ":
        go(i + 1);
        break;
      case "ArrowLeft":
      case "ArrowUp":
      case "PageUp":
        go(i - 1);
        break;
      case "Home":
        go(0);
        break;
      case "End":
        go(n - 1);
        break;
      case "Escape":
        onClose();
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  const stage = map.stages[i];
  const lang = map.locale || undefined;
  const lanes = lanesOf(map).filter((l) => l.kind !== "emotions");
  const laneName = (l: { name?: string; kind: string }) => l.name || tc(`lanes.${l.kind}`, { defaultValue: l.kind });
  return (
    <div
      ref={box}
      className="presentation"
      role="dialog"
      aria-modal="true"
      aria-label={t("present.label", { name: map.name })}
      tabIndex={-1}
      onKeyDown={onKey}
    >
      <header className="presentation-head">
        <span className="muted" lang={lang}>
          {map.name}
        </span>
        <span aria-live="polite" className="presentation-count">
          {t("present.position", { position: i + 1, total: n })}
        </span>
        <button type="button" className="button small" onClick={onClose}>
          {t("present.exit")}
        </button>
      </header>
      <h2 className="presentation-stage" lang={lang}>
        {stage?.name}
      </h2>
      {stage?.description && (
        <p className="presentation-desc" lang={lang}>
          {stage.description}
        </p>
      )}
      <div className="presentation-steps" lang={lang}>
        {stage?.steps.length === 0 && <p className="muted">{tc("map.noSteps")}</p>}
        {stage?.steps.map((s) => (
          <article key={s.id} className="presentation-step" aria-label={s.name}>
            <h3>{s.name}</h3>
            {s.emotion && (
              <p className={`emotion-badge ${s.emotion.score > 0 ? "pos" : s.emotion.score < 0 ? "neg" : "zero"}`}>
                {tc("emotion.score", { label: tc(`emotion.${s.emotion.score}`), score: s.emotion.score > 0 ? `+${s.emotion.score}` : s.emotion.score })}
                {s.emotion.note && <span className="muted"> · {s.emotion.note}</span>}
              </p>
            )}
            {lanes.map((l) => {
              if (l.kind === "touchpoints") {
                if (!s.touchpoints?.length) return null;
                return (
                  <section key={l.id}>
                    <h4>{laneName(l)}</h4>
                    <ul className="items">
                      {s.touchpoints.map((tp, k) => (
                        <li key={k} className="touchpoint">
                          <ChannelIcon channel={tp.channel} /> {tp.name}
                        </li>
                      ))}
                    </ul>
                  </section>
                );
              }
              const items = itemsOf(s, l);
              if (!items.length) return null;
              return (
                <section key={l.id} className={`lane-${l.kind}`}>
                  <h4>{laneName(l)}</h4>
                  <ul className="items">
                    {items.map((x, k) => (
                      <li key={k}>{x}</li>
                    ))}
                  </ul>
                </section>
              );
            })}
          </article>
        ))}
      </div>
      <footer className="presentation-foot">
        <button type="button" className="button" onClick={() => go(i - 1)} disabled={i === 0}>
          {t("present.previous")}
        </button>
        <button type="button" className="button primary" onClick={() => go(i + 1)} disabled={i >= n - 1}>
          {t("present.next")}
        </button>
      </footer>
    </div>
  );
}

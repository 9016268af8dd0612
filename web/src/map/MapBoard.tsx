import { useTranslation } from "react-i18next";
import type { JourneyMap, Lane, Step } from "../api";
import { laneItems, lanesOf } from "./lanes";

// MapBoard draws a map as a grid: stages and their steps as columns, lanes
// as rows. It is read-only and takes the whole document as a prop, so the
// editor can replace it without touching the page that loads and saves.
export function MapBoard({ map }: { map: JourneyMap }) {
  const { t } = useTranslation();
  const lanes = lanesOf(map);
  const steps = map.stages.flatMap((st) => (st.steps.length ? st.steps.map((s) => ({ stage: st, step: s as Step | null })) : [{ stage: st, step: null }]));
  const laneName = (l: Lane) => l.name || t(`lanes.${l.kind}`);

  return (
    <div className="board-scroll" tabIndex={0} role="region" aria-label={t("map.board")}>
      <table className="board" lang={map.locale || undefined}>
        <thead>
          <tr>
            <td className="corner" />
            {map.stages.map((st) => (
              <th key={st.id} scope="colgroup" colSpan={Math.max(1, st.steps.length)} className="stage-head">
                {st.name}
              </th>
            ))}
          </tr>
          <tr>
            <td className="corner" />
            {steps.map(({ stage, step }) =>
              step ? (
                <th key={step.id} scope="col" className="step-head">
                  {step.name}
                </th>
              ) : (
                <td key={`${stage.id}-empty`} className="step-head muted">
                  {t("map.noSteps")}
                </td>
              ),
            )}
          </tr>
        </thead>
        <tbody>
          {lanes.map((lane) => (
            <tr key={lane.id} className={`lane lane-${lane.kind}`}>
              <th scope="row" className="lane-head">
                {laneName(lane)}
              </th>
              {steps.map(({ stage, step }) => (
                <td key={step ? step.id : `${stage.id}-empty`}>{step && <Cell step={step} lane={lane} />}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Cell({ step, lane }: { step: Step; lane: Lane }) {
  const { t } = useTranslation();
  if (lane.kind === "touchpoints") {
    return (
      <ul className="items">
        {(step.touchpoints ?? []).map((tp, i) => (
          <li key={i} className="touchpoint">
            <span className={`channel channel-${tp.channel}`}>{t(`channels.${tp.channel}`, { defaultValue: tp.channel })}</span>{" "}
            {tp.name}
          </li>
        ))}
      </ul>
    );
  }
  if (lane.kind === "emotions") {
    if (!step.emotion) return null;
    const score = step.emotion.score;
    const label = t(`emotion.${score}`);
    return (
      <div className={`emotion emotion-${score < 0 ? "neg" : score > 0 ? "pos" : "zero"}`}>
        <span className="emotion-score">{t("emotion.score", { label, score: score > 0 ? `+${score}` : score })}</span>
        {step.emotion.note && <span className="emotion-note">{step.emotion.note}</span>}
      </div>
    );
  }
  const items = laneItems(step, lane);
  if (items.length === 0) return null;
  return (
    <ul className="items">
      {items.map((x, i) => (
        <li key={i}>{x}</li>
      ))}
    </ul>
  );
}

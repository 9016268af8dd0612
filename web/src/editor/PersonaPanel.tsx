import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { Persona } from "../api";
import { Modal } from "../components/Modal";

interface Props {
  linked: string[]; // the map's persona ids, in order
  personas: Persona[]; // the workspace's personas
  canEdit: boolean;
  onChange?: (ids: string[]) => void;
  onClose: () => void;
}

// The most personas a map may name (docs/api.md, "Limits").
export const MAX_PERSONAS = 20;

// PersonaPanel shows whom the map is drawn for and links or unlinks the
// workspace's personas. A link to a persona that no longer exists shows
// its id, so it can still be removed.
export function PersonaPanel({ linked, personas, canEdit, onChange, onClose }: Props) {
  const { t } = useTranslation("editor");
  const byId = new Map(personas.map((p) => [p.id, p]));
  const others = personas.filter((p) => !linked.includes(p.id));
  const [pick, setPick] = useState(others[0]?.id ?? "");
  const choice = others.some((p) => p.id === pick) ? pick : (others[0]?.id ?? "");
  const edit = canEdit && onChange;

  return (
    <Modal title={t("personas.title")} onClose={onClose}>
      {linked.length === 0 ? (
        <p className="muted">{t("personas.none")}</p>
      ) : (
        <ul className="persona-list">
          {linked.map((id) => {
            const p = byId.get(id);
            const name = p?.name ?? id;
            return (
              <li key={id}>
                <span>
                  <strong>{name}</strong>
                  {p?.role && <span className="muted"> · {p.role}</span>}
                  {!p && <span className="muted"> · {t("personas.missing")}</span>}
                </span>
                {edit && (
                  <button type="button" className="button small" onClick={() => onChange(linked.filter((x) => x !== id))}>
                    {t("personas.unlink", { name })}
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {edit && (
        <div className="persona-link">
          {others.length === 0 ? (
            <p className="muted">{personas.length === 0 ? t("personas.noneInWorkspace") : t("personas.allLinked")}</p>
          ) : (
            <>
              <label>
                {t("personas.choose")}{" "}
                <select value={choice} onChange={(e) => setPick(e.target.value)}>
                  {others.map((p) => (
                    <option key={p.id} value={p.id}>
                      {p.role ? `${p.name} · ${p.role}` : p.name}
                    </option>
                  ))}
                </select>
              </label>
              <button
                type="button"
                className="button"
                disabled={!choice || linked.length >= MAX_PERSONAS}
                onClick={() => choice && onChange([...linked, choice])}
              >
                {t("personas.link")}
              </button>
            </>
          )}
        </div>
      )}
    </Modal>
  );
}

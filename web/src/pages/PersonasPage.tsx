import { useEffect, useId, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { useSession } from "../context";
import { errorText } from "../format";
import { Modal } from "../components/Modal";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { CHANNELS, DataApi, type Channel, type Persona } from "../data/api";
import "../data/data.css";

const LISTS = ["goals", "needs", "frustrations", "motivations"] as const;

interface Draft {
  name: string;
  role: string;
  quote: string;
  demographics: string; // "key: value" per line
  goals: string; // one item per line
  needs: string;
  frustrations: string;
  motivations: string;
  channels: Channel[];
}

export function draftOf(p?: Persona): Draft {
  return {
    name: p?.name ?? "",
    role: p?.role ?? "",
    quote: p?.quote ?? "",
    demographics: Object.entries(p?.demographics ?? {})
      .map(([k, v]) => `${k}: ${v}`)
      .join("\n"),
    goals: (p?.goals ?? []).join("\n"),
    needs: (p?.needs ?? []).join("\n"),
    frustrations: (p?.frustrations ?? []).join("\n"),
    motivations: (p?.motivations ?? []).join("\n"),
    channels: p?.channels ?? [],
  };
}

const lines = (s: string) =>
  s
    .split("\n")
    .map((x) => x.trim())
    .filter(Boolean);

// personaOf turns the form back into a persona, keeping the fields the
// form does not show (photo, locale) from the original, since PUT
// replaces the whole persona.
export function personaOf(d: Draft, orig?: Persona): Persona {
  const demographics: Record<string, string> = {};
  for (const l of lines(d.demographics)) {
    const i = l.indexOf(":");
    if (i > 0) demographics[l.slice(0, i).trim()] = l.slice(i + 1).trim();
  }
  const p: Persona = { ...(orig ?? {}), id: orig?.id ?? "", name: d.name.trim() };
  delete p.createdAt;
  delete p.updatedAt;
  if (!orig) delete (p as Partial<Persona>).id;
  const set = <K extends keyof Persona>(k: K, v: Persona[K] | undefined, empty: boolean) => {
    if (empty) delete p[k];
    else p[k] = v as Persona[K];
  };
  set("role", d.role.trim(), !d.role.trim());
  set("quote", d.quote.trim(), !d.quote.trim());
  set("demographics", demographics, Object.keys(demographics).length === 0);
  for (const k of LISTS) set(k, lines(d[k]), lines(d[k]).length === 0);
  set("channels", d.channels, d.channels.length === 0);
  return p;
}

function PersonaForm({ persona, onSaved, onClose }: { persona?: Persona; onSaved: (p: Persona) => void; onClose: () => void }) {
  const { t } = useTranslation(["data", "translation"]);
  const { api } = useSession();
  const data = useMemo(() => new DataApi(api), [api]);
  const [d, setD] = useState<Draft>(() => draftOf(persona));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const id = useId();
  const set = (patch: Partial<Draft>) => setD((x) => ({ ...x, ...patch }));
  const save = async () => {
    setBusy(true);
    setError("");
    try {
      const p = personaOf(d, persona);
      onSaved(persona ? await data.updatePersona(p) : await data.createPersona(p));
    } catch (e) {
      setError(errorText(t, e));
      setBusy(false);
    }
  };
  const field = (k: keyof Draft, label: string, multi = false) => (
    <div className="field">
      <label htmlFor={`${id}-${k}`}>{label}</label>
      {multi ? (
        <textarea id={`${id}-${k}`} rows={3} value={d[k] as string} onChange={(e) => set({ [k]: e.target.value })} />
      ) : (
        <input id={`${id}-${k}`} value={d[k] as string} onChange={(e) => set({ [k]: e.target.value })} data-autofocus={k === "name" ? true : undefined} />
      )}
    </div>
  );
  return (
    <Modal
      title={persona ? t("personas.editTitle", { name: persona.name }) : t("personas.newTitle")}
      onClose={onClose}
      wide
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            {t("common.cancel")}
          </button>
          <button type="button" className="button primary" disabled={busy || !d.name.trim()} onClick={() => void save()}>
            {t("personas.save")}
          </button>
        </>
      }
    >
      <form
        className="persona-form"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        {field("name", t("personas.name"))}
        {field("role", t("personas.role"))}
        {field("quote", t("personas.quote"), true)}
        {field("demographics", t("personas.demographics"), true)}
        {LISTS.map((k) => (
          <div key={k}>{field(k, t(`personas.${k}`), true)}</div>
        ))}
        <fieldset className="channel-checks">
          <legend>{t("personas.channels")}</legend>
          {CHANNELS.map((c) => (
            <label key={c} className="check">
              <input
                type="checkbox"
                checked={d.channels.includes(c)}
                onChange={(e) => set({ channels: e.target.checked ? [...d.channels, c] : d.channels.filter((x) => x !== c) })}
              />
              {t(`channels.${c}`)}
            </label>
          ))}
        </fieldset>
        <p className="small muted">{t("personas.linesHint")}</p>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </Modal>
  );
}

// PersonasPage lists the workspace's personas; editors create, edit and
// delete them.
export default function PersonasPage() {
  const { t } = useTranslation(["data", "translation"]);
  const { api, canEdit } = useSession();
  const data = useMemo(() => new DataApi(api), [api]);
  const [list, setList] = useState<Persona[] | null>(null);
  const [error, setError] = useState("");
  const [editing, setEditing] = useState<Persona | "new" | null>(null);
  const [deleting, setDeleting] = useState<Persona | null>(null);

  useEffect(() => {
    document.title = `${t("personas.title")} · trek`;
    let live = true;
    data.personas().then(
      (ps) => live && setList(ps),
      (e) => live && setError(errorText(t, e)),
    );
    return () => {
      live = false;
    };
  }, [data, t]);

  return (
    <div className="page">
      <div className="page-head">
        <h1>{t("personas.title")}</h1>
        {canEdit && (
          <button type="button" className="button primary" onClick={() => setEditing("new")}>
            {t("personas.new")}
          </button>
        )}
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {list === null && !error && <p aria-busy="true">{t("common.loading")}</p>}
      {list?.length === 0 && <p className="empty">{t("personas.empty")}</p>}
      <ul className="cards">
        {list?.map((p) => (
          <li key={p.id} className="card persona-card">
            <h2 className="card-title">{p.name}</h2>
            {p.role && <p className="muted">{p.role}</p>}
            {p.quote && <blockquote>“{p.quote}”</blockquote>}
            {p.goals?.length ? (
              <p className="small">
                <strong>{t("personas.goals")}:</strong> {p.goals.join("; ")}
              </p>
            ) : null}
            {p.channels?.length ? <p className="small muted">{p.channels.map((c) => t(`channels.${c}`)).join(", ")}</p> : null}
            {canEdit && (
              <div className="card-actions">
                <button type="button" className="button" onClick={() => setEditing(p)} aria-label={t("personas.editNamed", { name: p.name })}>
                  {t("personas.edit")}
                </button>
                <button
                  type="button"
                  className="button danger-outline"
                  onClick={() => setDeleting(p)}
                  aria-label={t("personas.deleteNamed", { name: p.name })}
                >
                  {t("personas.delete")}
                </button>
              </div>
            )}
          </li>
        ))}
      </ul>
      {editing && (
        <PersonaForm
          persona={editing === "new" ? undefined : editing}
          onClose={() => setEditing(null)}
          onSaved={(p) => {
            setList((l) => (editing === "new" ? [...(l ?? []), p] : (l ?? []).map((x) => (x.id === p.id ? p : x))));
            setEditing(null);
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title={t("personas.deleteTitle", { name: deleting.name })}
          body={t("personas.deleteBody")}
          confirmLabel={t("personas.delete")}
          busyLabel={t("personas.deleting")}
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await data.deletePersona(deleting.id);
            setList((l) => (l ?? []).filter((x) => x.id !== deleting.id));
            setDeleting(null);
          }}
        />
      )}
    </div>
  );
}

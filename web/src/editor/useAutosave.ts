import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { ApiError, type Api, type FieldError, type JourneyMap, type MapSummary } from "../api";
import { saveMap } from "./mapApi";

export type SaveStatus = "saved" | "pending" | "saving" | "conflict" | "invalid" | "error";

export interface SaveState {
  status: SaveStatus;
  version: number; // the version the next save is based on
  savedAt?: string;
  savedBy?: string;
  conflict?: MapSummary; // who saved first, on a 409
  fields: FieldError[]; // what the server refused, on a 400
  error?: unknown; // anything else
}

// The pause after the last change before saving: short enough that little
// is at risk, long enough that typing a word is one version, not five.
export const AUTOSAVE_DELAY = 800;

// useAutosave saves doc some time after it last changed, with If-Match set
// to the version it was based on. It never sends two saves at once: a
// change made during a save is sent when that save returns. A 409 stops
// saving until the user chooses (keepMine or the caller reloads); a 400
// stops it until the document changes again.
export function useAutosave(api: Api, doc: JourneyMap, initial: JourneyMap, delay = AUTOSAVE_DELAY) {
  const [state, setState] = useState<SaveState>({ status: "saved", version: initial.version, fields: [], savedAt: initial.updatedAt, savedBy: initial.updatedBy });
  const saved = useRef<JourneyMap>(initial); // the document the server has
  const base = useRef(initial.version);
  const current = useRef(doc);
  const busy = useRef(false);
  const blocked = useRef<JourneyMap | null>(null); // refused as invalid: do not resend it
  const stopped = useRef(false); // a conflict waits for the user
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  current.current = doc;

  const save = useCallback(async () => {
    clearTimeout(timer.current);
    if (busy.current || stopped.current) return;
    const sending = current.current;
    if (sending === saved.current || sending === blocked.current) return;
    busy.current = true;
    setState((s) => ({ ...s, status: "saving" }));
    try {
      const res = await saveMap(api, sending, base.current);
      base.current = res.version;
      saved.current = sending;
      blocked.current = null;
      const more = current.current !== sending;
      setState({ status: more ? "pending" : "saved", version: res.version, fields: [], savedAt: res.updatedAt, savedBy: res.updatedBy });
      busy.current = false;
      if (more) timer.current = setTimeout(() => void save(), delay);
    } catch (e) {
      busy.current = false;
      if (e instanceof ApiError && e.status === 409) {
        stopped.current = true;
        setState((s) => ({ ...s, status: "conflict", conflict: e.current, fields: [] }));
      } else if (e instanceof ApiError && e.status === 400 && e.fields.length) {
        blocked.current = sending;
        setState((s) => ({ ...s, status: "invalid", fields: e.fields }));
        if (current.current !== sending) timer.current = setTimeout(() => void save(), delay);
      } else {
        setState((s) => ({ ...s, status: "error", error: e }));
      }
    }
  }, [api, delay]);

  // A layout effect, so that the status says "pending" in the same frame
  // that shows the change: never "Saved" over an edit not yet sent.
  useLayoutEffect(() => {
    if (stopped.current) return;
    if (doc === saved.current) {
      clearTimeout(timer.current);
      if (!busy.current) setState((s) => (s.status === "saved" ? s : { ...s, status: "saved", fields: [] }));
      return;
    }
    if (doc === blocked.current) return;
    if (!busy.current) setState((s) => (s.status === "pending" ? s : { ...s, status: "pending" }));
    clearTimeout(timer.current);
    timer.current = setTimeout(() => void save(), delay);
  }, [doc, save, delay]);

  // Leaving the page saves what is pending rather than dropping it.
  useEffect(
    () => () => {
      if (timer.current !== undefined) {
        clearTimeout(timer.current);
        void save();
      }
    },
    [save],
  );

  // keepMine saves this document over the version someone else saved; their
  // version stays in the history, where it can be compared and restored.
  const keepMine = useCallback(
    (theirs: number) => {
      stopped.current = false;
      base.current = theirs;
      void save();
    },
    [save],
  );

  // rebase is for a document that came from the server (a reload, a
  // restore): it is saved already, as that version.
  const rebase = useCallback((m: JourneyMap) => {
    clearTimeout(timer.current);
    stopped.current = false;
    blocked.current = null;
    saved.current = m;
    base.current = m.version;
    setState({ status: "saved", version: m.version, fields: [], savedAt: m.updatedAt, savedBy: m.updatedBy });
  }, []);

  const retry = useCallback(() => {
    blocked.current = null;
    void save();
  }, [save]);

  return { state, keepMine, rebase, retry, flush: save };
}

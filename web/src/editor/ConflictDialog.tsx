import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import type { MapSummary } from "../api";
import { Modal } from "../components/Modal";
import { absoluteTime, errorText, relativeTime } from "../format";

interface Props {
  current?: MapSummary; // the map as someone else saved it
  base: number; // the version these edits started from
  onKeepMine: () => void;
  onDiscardMine: () => Promise<void>;
  onClose: () => void; // decide later: saving stays paused
}

// ConflictDialog says who saved the map while these edits were unsaved and
// offers the two ways on: save these edits as the next version (the other
// version stays in the history), or drop them and load the other version.
export function ConflictDialog({ current, base, onKeepMine, onDiscardMine, onClose }: Props) {
  const { t, i18n } = useTranslation("editor");
  const { t: tc } = useTranslation();
  const bodyId = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const discard = async () => {
    setBusy(true);
    setError("");
    try {
      await onDiscardMine();
    } catch (e) {
      setError(errorText(tc, e));
      setBusy(false);
    }
  };
  const who = current?.updatedBy || t("conflict.someone");
  return (
    <Modal
      title={t("conflict.title")}
      role="alertdialog"
      describedBy={bodyId}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="button" onClick={() => void discard()} disabled={busy}>
            {t("conflict.discardMine")}
          </button>
          <button type="button" className="button primary" onClick={onKeepMine} disabled={busy} data-autofocus>
            {t("conflict.keepMine")}
          </button>
        </>
      }
    >
      <div id={bodyId}>
        <p>
          {current ? (
            <>
              {t("conflict.body", { who, version: current.version, base })}{" "}
              <time dateTime={current.updatedAt} title={absoluteTime(current.updatedAt, i18n.language)}>
                {relativeTime(current.updatedAt, i18n.language)}
              </time>
            </>
          ) : (
            t("conflict.bodyUnknown", { base })
          )}
        </p>
        <p className="muted">{t("conflict.explain")}</p>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </Modal>
  );
}

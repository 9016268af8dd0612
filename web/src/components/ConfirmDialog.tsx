import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { Modal } from "./Modal";
import { errorText } from "../format";

interface Props {
  title: string;
  body: string;
  confirmLabel: string;
  busyLabel: string;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}

// ConfirmDialog asks before something that cannot be undone. Focus starts
// on Cancel, so pressing Enter by habit does no harm.
export function ConfirmDialog({ title, body, confirmLabel, busyLabel, onConfirm, onClose }: Props) {
  const { t } = useTranslation();
  const bodyId = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const confirm = async () => {
    setBusy(true);
    setError("");
    try {
      await onConfirm();
    } catch (e) {
      setError(errorText(t, e));
      setBusy(false);
    }
  };
  return (
    <Modal
      title={title}
      onClose={onClose}
      role="alertdialog"
      describedBy={bodyId}
      footer={
        <>
          <button type="button" className="button" onClick={onClose} data-autofocus>
            {t("common.cancel")}
          </button>
          <button type="button" className="button danger" onClick={confirm} disabled={busy}>
            {busy ? busyLabel : confirmLabel}
          </button>
        </>
      }
    >
      <p id={bodyId}>{body}</p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </Modal>
  );
}

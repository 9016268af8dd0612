import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { useTranslation } from "react-i18next";

interface Props {
  id?: string;
  value: string;
  // label names the field while it is being edited ("Step name"); the
  // button that opens it is named by the text it shows.
  label: string;
  onCommit: (value: string) => void;
  onCancel?: () => void;
  multiline?: boolean;
  placeholder?: string;
  className?: string;
  editing?: boolean; // start open, as a newly added item does
  error?: string;
  lang?: string;
}

// EditableText shows a value as a button; a click (or Enter) turns it into
// a field. Enter saves, Escape puts the old value back, leaving the field
// saves too, so that nothing typed is lost by clicking elsewhere.
export function EditableText({ id, value, label, onCommit, onCancel, multiline, placeholder, className, editing, error, lang }: Props) {
  const { t } = useTranslation("editor");
  const [open, setOpen] = useState(Boolean(editing));
  const [draft, setDraft] = useState(value);
  const field = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const done = useRef(false);
  const hintId = useId();
  const errId = useId();

  useEffect(() => {
    if (open) {
      field.current?.focus();
      field.current?.select();
    }
  }, [open]);

  const start = () => {
    done.current = false;
    setDraft(value);
    setOpen(true);
  };
  const finish = (save: boolean) => {
    if (done.current) return;
    done.current = true;
    setOpen(false);
    if (save && draft !== value) onCommit(draft);
    else if (!save || draft === value) onCancel?.();
    // Give focus back to the button so that keyboard users keep their place.
    requestAnimationFrame(() => button.current?.focus());
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      finish(false);
    } else if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      // Shift+Enter keeps a line break in longer texts; IME composition
      // (Vietnamese Telex, for one) uses Enter to confirm a word.
      e.preventDefault();
      finish(true);
    }
  };

  if (open) {
    const common = {
      ref: field,
      id,
      value: draft,
      "aria-label": label,
      "aria-invalid": error ? true : undefined,
      "aria-describedby": error ? errId : undefined,
      className: `edit-field ${className ?? ""}`,
      lang,
      onChange: (e: { target: { value: string } }) => setDraft(e.target.value),
      onKeyDown: onKey,
      onBlur: () => finish(true),
      placeholder,
    };
    return (
      <span className="edit-wrap">
        {multiline ? <textarea rows={Math.min(6, Math.max(2, draft.split("\n").length))} {...common} /> : <input type="text" {...common} />}
        {error && (
          <span id={errId} className="field-error" role="alert">
            {error}
          </span>
        )}
      </span>
    );
  }
  return (
    <span className="edit-wrap">
      <button
        ref={button}
        id={id}
        type="button"
        className={`edit-text ${value ? "" : "placeholder"} ${className ?? ""}`}
        onClick={start}
        aria-describedby={error ? `${hintId} ${errId}` : hintId}
        aria-invalid={error ? true : undefined}
        lang={lang}
      >
        {value || placeholder || label}
      </button>
      <span id={hintId} hidden>
        {t("edit.hint", { field: label })}
      </span>
      {error && (
        <span id={errId} className="field-error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}

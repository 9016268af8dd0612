import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode, type RefObject } from "react";

export interface MenuItem {
  action: string;
  label: string;
  disabled?: boolean;
  // separated draws a rule above the item, to set apart an item of
  // another sort (such as "Custom lane…" after the built-in lanes).
  separated?: boolean;
}

interface Props {
  // label is the button's accessible name and the menu's.
  label: string;
  // face is what the button shows; the label is used when it is absent.
  face?: ReactNode;
  className: string;
  items: MenuItem[];
  onPick: (action: string) => void;
  // align puts the menu under the button's left or right edge.
  align?: "left" | "right";
  // buttonRef lets the owner give the focus back to the button after an
  // action that opened something else, such as a field to name a lane.
  buttonRef?: RefObject<HTMLButtonElement | null>;
}

// MenuButton is a button that opens a list of actions, following the WAI-ARIA
// menu button pattern: Enter, Space or ArrowDown open it on the first item
// (ArrowUp on the last), the arrow keys, Home and End move between items,
// Escape closes it and gives the focus back to the button, and so does a
// choice. A click outside, or Tab, closes it too.
export function MenuButton({ label, face, className, items, onPick, align = "right", buttonRef }: Props) {
  const [open, setOpen] = useState<false | "first" | "last">(false);
  const menuId = useId();
  const own = useRef<HTMLButtonElement>(null);
  const button = buttonRef ?? own;
  const menu = useRef<HTMLUListElement>(null);
  const enabled = () => Array.from(menu.current?.querySelectorAll<HTMLButtonElement>("button:not([disabled])") ?? []);

  useEffect(() => {
    if (!open) return;
    const all = enabled();
    (open === "last" ? all.at(-1) : all[0])?.focus();
    const away = (e: MouseEvent) => {
      if (!menu.current?.contains(e.target as Node) && !button.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", away);
    return () => document.removeEventListener("mousedown", away);
  }, [open]);

  const onButtonKey = (e: KeyboardEvent) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      setOpen(e.key === "ArrowDown" ? "first" : "last");
    }
  };

  const onKey = (e: KeyboardEvent) => {
    const all = enabled();
    const i = all.indexOf(document.activeElement as HTMLButtonElement);
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      setOpen(false);
      button.current?.focus();
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      all[(i + (e.key === "ArrowDown" ? 1 : all.length - 1)) % all.length]?.focus();
    } else if (e.key === "Home" || e.key === "End") {
      e.preventDefault();
      all[e.key === "Home" ? 0 : all.length - 1]?.focus();
    } else if (e.key === "Tab") {
      setOpen(false);
    }
  };

  return (
    <span className="menu-wrap">
      <button
        ref={button}
        type="button"
        className={className}
        aria-haspopup="menu"
        aria-expanded={Boolean(open)}
        aria-controls={open ? menuId : undefined}
        aria-label={face ? label : undefined}
        onClick={() => setOpen((o) => (o ? false : "first"))}
        onKeyDown={onButtonKey}
      >
        {face ?? label}
      </button>
      {open && (
        <ul ref={menu} id={menuId} className={`menu menu-${align}`} role="menu" aria-label={label} onKeyDown={onKey}>
          {items.map((it) => [
            it.separated ? <li key={`${it.action}-rule`} role="separator" className="menu-rule" /> : null,
            <li key={it.action} role="none">
              <button
                type="button"
                role="menuitem"
                disabled={it.disabled}
                onClick={() => {
                  setOpen(false);
                  button.current?.focus();
                  onPick(it.action);
                }}
              >
                {it.label}
              </button>
            </li>,
          ])}
        </ul>
      )}
    </span>
  );
}

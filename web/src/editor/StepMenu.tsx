import { useTranslation } from "react-i18next";
import { MenuButton, type MenuItem } from "./MenuButton";

export type { MenuItem };

// StepMenu is a step's context menu: the editor's own actions on the step
// and those other features add (binding it to data, opening an analysis).
export function StepMenu({ stepName, items, onPick }: { stepName: string; items: MenuItem[]; onPick: (action: string) => void }) {
  const { t } = useTranslation("editor");
  return (
    <MenuButton
      label={t("step.menu", { name: stepName })}
      face={<span aria-hidden="true">⋯</span>}
      className="icon-button small"
      items={items}
      onPick={onPick}
    />
  );
}

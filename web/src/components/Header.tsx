import { useId } from "react";
import { useTranslation } from "react-i18next";
import type { Membership } from "../api";
import { Preferences } from "./Preferences";
import { Logo } from "./Logo";
import { navigate } from "../router";
import { DataNav } from "../analysis/DataNav";

interface Props {
  userName: string;
  memberships: Membership[];
  current: Membership;
  onWorkspace: (slug: string) => void;
  onLogout: () => void;
}

export function Header({ userName, memberships, current, onWorkspace, onLogout }: Props) {
  const { t } = useTranslation();
  const wsId = useId();
  return (
    <header className="topbar">
      <a
        className="brand"
        href="/"
        onClick={(e) => {
          e.preventDefault();
          navigate({ page: "gallery" });
        }}
      >
        <Logo />
        <span>{t("app.name")}</span>
      </a>
      <nav aria-label={t("app.mainNav")} className="topnav">
        <a
          href="/"
          onClick={(e) => {
            e.preventDefault();
            navigate({ page: "gallery" });
          }}
        >
          {t("nav.maps")}
        </a>
        <DataNav role={current.role} />
      </nav>
      <div className="topbar-tools">
        <div className="field-inline">
          <label htmlFor={wsId}>{t("header.workspace")}</label>
          <select id={wsId} value={current.workspace.slug} onChange={(e) => onWorkspace(e.target.value)}>
            {memberships.map((m) => (
              <option key={m.workspace.id} value={m.workspace.slug}>
                {m.workspace.name || m.workspace.slug}
              </option>
            ))}
          </select>
        </div>
        <Preferences />
        <span className="muted user">{t("header.signedInAs", { name: userName, role: t(`roles.${current.role}`) })}</span>
        <button type="button" className="button" onClick={onLogout}>
          {t("header.logout")}
        </button>
      </div>
    </header>
  );
}

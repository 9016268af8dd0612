import { useTranslation } from "react-i18next";
import type { Role } from "../api";
import { go } from "./links";

// DataNav adds the data pages to the top bar; sources are for admins.
export function DataNav({ role }: { role: Role }) {
  const { t } = useTranslation("data");
  const items: [string, string][] = [
    ["/analysis/funnel", t("nav.analysis")],
    ["/personas", t("nav.personas")],
    ["/customers", t("nav.customers")],
  ];
  if (role === "admin") items.push(["/sources", t("nav.sources")]);
  return (
    <>
      {items.map(([href, label]) => (
        <a
          key={href}
          href={href}
          aria-current={typeof window !== "undefined" && window.location.pathname.startsWith(href.split("/").slice(0, 2).join("/")) ? "page" : undefined}
          onClick={(e) => {
            e.preventDefault();
            go(href);
          }}
        >
          {label}
        </a>
      ))}
    </>
  );
}

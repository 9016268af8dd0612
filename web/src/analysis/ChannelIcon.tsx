import { useTranslation } from "react-i18next";

// Small line icons per channel, drawn on a 16×16 grid so they stay crisp
// at text size; the channel's name is the accessible label.
const PATHS: Record<string, string> = {
  web: "M8 1.5a6.5 6.5 0 1 0 0 13a6.5 6.5 0 1 0 0-13M1.5 8h13M8 1.5c2 2 2 11 0 13M8 1.5c-2 2-2 11 0 13",
  mobile: "M5 1.5h6v13H5zM7 12.5h2",
  call_centre: "M3 9V7a5 5 0 0 1 10 0v2M3 9h2v4H3zM11 9h2v4h-2zM13 13c0 1-2 1.5-4 1.5",
  store: "M2 6l1.5-4h9L14 6M2 6h12M3 6v8h10V6M6 14v-4h4v4",
  email: "M1.5 3.5h13v9h-13zM1.5 3.5L8 9l6.5-5.5",
  social: "M4 8a2 2 0 1 0 0.01 0M12 3.5a2 2 0 1 0 0.01 0M12 12.5a2 2 0 1 0 0.01 0M5.8 7l4.4-2.5M5.8 9l4.4 2.5",
  ads: "M2 6.5h3l6-3.5v10l-6-3.5H2zM5 10l1 4",
  chat: "M2 3h12v8H7l-3 3v-3H2z",
  partner: "M1.5 8l3-3 3.5 2 3.5-2 3 3M4.5 5v6M11.5 5v6M6 10l2 2 2-2",
  crm: "M2 2.5h12v11H2zM2 6h12M6 6v7.5",
  other: "M8 1.5a6.5 6.5 0 1 0 0 13a6.5 6.5 0 1 0 0-13M5 8h.01M8 8h.01M11 8h.01",
};

export function ChannelIcon({ channel }: { channel: string }) {
  const { t } = useTranslation();
  const label = t(`channels.${channel}`, { defaultValue: channel });
  return (
    <svg className={`channel-icon ch-${channel}`} viewBox="0 0 16 16" width="18" height="18" role="img" aria-label={label}>
      <title>{label}</title>
      <path d={PATHS[channel] ?? PATHS.other} fill="none" stroke="currentColor" strokeWidth="1.3" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}

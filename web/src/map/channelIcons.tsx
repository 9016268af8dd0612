// Channel icons as 16×16 path data, drawn with a stroke. The board and the
// SVG export draw the same shapes, so an exported map looks like the app.
export const CHANNEL_ICONS: Record<string, string> = {
  // a globe
  web: "M8 1.5a6.5 6.5 0 1 0 0 13a6.5 6.5 0 1 0 0-13M1.5 8h13M8 1.5c-2.4 2.2-2.4 10.8 0 13M8 1.5c2.4 2.2 2.4 10.8 0 13",
  // a phone
  mobile: "M5 1.5h6a1 1 0 0 1 1 1v11a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1v-11a1 1 0 0 1 1-1M7 12.5h2",
  // a headset
  call_centre: "M3 9V7.5a5 5 0 0 1 10 0V9M3 9h2v4H3zM11 9h2v4h-2zM12 13c0 1-1 1.5-3 1.5",
  // a shop front
  store: "M2 6.5L3.5 2h9L14 6.5M2 6.5h12M3 6.5V14h10V6.5M6.5 14v-4h3v4",
  // an envelope
  email: "M1.5 3.5h13v9h-13zM1.5 3.5L8 9l6.5-5.5",
  // two people
  social: "M5.5 7a2 2 0 1 0 0-4a2 2 0 1 0 0 4M1.5 13c0-2.5 1.8-4 4-4s4 1.5 4 4M11 7a1.7 1.7 0 1 0 0-3.4M11.5 9c1.8.3 3 1.7 3 4",
  // a megaphone
  ads: "M2 6.5h3l6-3.5v10l-6-3.5H2zM5 9.5l1 4h2l-1-4M13 6.5v3",
  // a speech bubble
  chat: "M2 3h12v8H7l-3 3v-3H2z",
  // a handshake
  partner: "M1.5 8l3-3 3.5 1.5L11.5 5l3 3M4.5 5l4.5 5.5a1 1 0 0 0 1.5-1.3M7 10.5l1.5 1.5M5 12l1 1",
  // a database
  crm: "M2.5 3.5c0-2 11-2 11 0v9c0 2-11 2-11 0zM2.5 3.5c0 2 11 2 11 0M2.5 8c0 2 11 2 11 0",
  // a dot in a circle
  other: "M8 2a6 6 0 1 0 0 12a6 6 0 1 0 0-12M8 7a1 1 0 1 0 0 2a1 1 0 1 0 0-2",
};

export function ChannelIcon({ channel }: { channel: string }) {
  return (
    <svg className="channel-icon" width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
      <path d={CHANNEL_ICONS[channel] ?? CHANNEL_ICONS.other} fill="none" stroke="currentColor" strokeWidth="1.4" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}

import type { Channel, Filter, Segment } from "./api";

// SegmentChoice is what the segment picker asks: "customers who did
// EVENT [on CHANNEL] [with PROPERTY = VALUE]", the commonest way teams
// slice a journey.
export interface SegmentChoice {
  event: string;
  channel: Channel | "";
  property: string;
  value: string;
}

export const NO_SEGMENT: SegmentChoice = { event: "", channel: "", property: "", value: "" };

// toSegment gives the API's segment JSON, or undefined for everyone. A
// value that reads as a number is sent as one, since properties such as
// totals and scores are numbers in the events.
export function toSegment(c: SegmentChoice): Segment | undefined {
  if (!c.event.trim()) return undefined;
  const performed: Segment["performed"] = { event: c.event.trim() };
  if (c.channel) performed.channel = c.channel;
  if (c.property.trim()) {
    const f: Filter = { property: c.property.trim(), op: "eq", value: parseValue(c.value) };
    performed.where = [f];
  }
  return { performed };
}

export function parseValue(v: string): string | number | boolean {
  const s = v.trim();
  if (s === "true") return true;
  if (s === "false") return false;
  if (s !== "" && /^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  return s;
}

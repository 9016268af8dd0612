import type { MapMetrics } from "../data/api";

// The server measures each bound step's emotion from survey answers
// ("Survey Responded" events with survey_type "emotion", about_event and a
// score from −2 to 2; docs/analytics.md, "The live map"), on the designed
// curve's scale, so the overlay only reads it off the metrics.
export interface Measured {
  mean: number;
  responses: number;
}

// emotionFromMetrics gives every step with survey answers its measured
// emotion, keyed by step id.
export function emotionFromMetrics(m: MapMetrics | null): Record<string, Measured> {
  const out: Record<string, Measured> = {};
  for (const s of m?.steps ?? []) {
    if (s.measuredEmotion && s.measuredEmotion.responses > 0) out[s.stepId] = s.measuredEmotion;
  }
  return out;
}

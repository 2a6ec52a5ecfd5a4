// The shapes of the answers to the documents in queries.ts.

export type Gender = 'FEMALE' | 'MALE' | 'OTHER' | 'UNKNOWN';

export interface Bucket {
  start: string;
  end: string;
  total: number;
  byGender?: { gender: Gender; count: number }[];
}

export interface GeoShare {
  label: string;
  code: string | null;
  parent: string | null;
  count: number;
  percentage: number;
  isOther: boolean;
}

export interface Registrations {
  period: { from: string; to: string; timeZone: string };
  total: number;
  change: { total: number; previousTotal: number; percentage: number | null };
  previous: { period: { from: string; to: string }; total: number; timeline: { buckets: Bucket[] } };
  timeline: { buckets: Bucket[]; peak: Bucket | null };
  byGender: { gender: Gender; count: number; percentage: number }[];
  byAge: { label: string; minAge: number | null; maxAge: number | null; count: number; percentage: number }[];
  country: GeoShare[];
  state: GeoShare[];
  city: GeoShare[];
}

export interface Figures {
  streams: number;
  playbackStarts: number;
  minutesConsumed: number;
}

export interface Change {
  value: number;
  previous: number;
  percentage: number | null;
}

export interface Split {
  name: string;
  live: Figures;
  vod: Figures;
}

export interface ContentFigures extends Figures {
  content: { id: string; title: string };
}

export interface QualityFigures {
  startup: { sessions: number; averageMs: number | null; maxMs: number | null };
  exitsBeforeStart: number;
  rebuffering: { count: number; seconds: number; ratio: number | null };
  errors: number;
}

export interface Quality extends QualityFigures {
  live: QualityFigures;
  vod: QualityFigures;
  devices: (QualityFigures & { name: string })[];
}

export interface Activity {
  overview: Figures;
  change: { streams: Change; playbackStarts: Change; minutesConsumed: Change };
  bandwidth: {
    averageKbps: number | null;
    points: { start: string; end: string; avgKbps: number | null; minKbps: number | null; maxKbps: number | null; samples: number }[];
  };
  details: {
    live: Figures;
    vod: Figures;
    devices: Split[];
    referrers: Split[];
    medias: ContentFigures[];
    liveSignals: ContentFigures[];
    logins: { totalCount: number; nodes: { id: string; occurredAt: string; device: string }[] };
  };
  quality: Quality;
}

export interface UserProfile {
  id: string;
  name: string | null;
  gender: Gender;
  age: number | null;
  country: string | null;
  state: string | null;
  city: string | null;
  registeredAt: string;
}

export interface PlayerEvent {
  id: string;
  type: string;
  occurredAt: string;
  day: string;
  position: number | null;
  contentKind: 'LIVE' | 'VOD' | null;
  content: { id: string; title: string } | null;
  device: string | null;
  referrer: string | null;
  bandwidthKbps: number | null;
  sessionId: string;
}

export interface EventsPage {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  nodes: PlayerEvent[];
}

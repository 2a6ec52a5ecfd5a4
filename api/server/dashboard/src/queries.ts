// The documents the dashboard sends: public API only, each panel asking for what it shows.

const FIGURES = 'streams playbackStarts minutesConsumed';

export const TENANT_ZONE = `query DashboardZone {
  registrations(period: { from: "2000-01-01", to: "2000-01-02" }) { period { timeZone } }
}`;

const REGISTRATION_FIELDS = `
  period { from to timeZone }
  total
  change(shift: $shift) { total previousTotal percentage }
  previous(shift: $shift) {
    period { from to }
    total
    timeline(granularity: $granularity) { buckets { start end total } }
  }
  timeline(granularity: $granularity) {
    buckets { start end total byGender { gender count } }
    peak { start end total }
  }
  byGender { gender count percentage }
  byAge { label minAge maxAge count percentage }
  country: byGeography(level: COUNTRY) { label code parent count percentage isOther }
  state: byGeography(level: STATE) { label code parent count percentage isOther }
  city: byGeography(level: CITY) { label code parent count percentage isOther }`;

const REGISTRATION_VARIABLES = '$period: PeriodInput!, $granularity: Granularity!, $shift: PeriodShift!';

export const REGISTRATIONS = `query DashboardRegistrations(${REGISTRATION_VARIABLES}) {
  registrations(period: $period) {${REGISTRATION_FIELDS}
  }
}`;

export const LIVE_REGISTRATIONS = `subscription DashboardLiveRegistrations(${REGISTRATION_VARIABLES}) {
  liveRegistrations(period: $period) {${REGISTRATION_FIELDS}
  }
}`;

/** The name of the user typed so far, and the users whose id starts with it. */
export const USER_NAME = `query DashboardUserName($id: ID!, $prefix: String!) {
  user(id: $id) { id name }
  usersByIdPrefix(idPrefix: $prefix, first: 8) { id name }
}`;

const QUALITY_FIGURES = `startup { sessions averageMs maxMs }
  exitsBeforeStart
  rebuffering { count seconds ratio }
  errors`;

const ACTIVITY_FIELDS = `
  overview { ${FIGURES} }
  change(shift: $shift) {
    streams { value previous percentage }
    playbackStarts { value previous percentage }
    minutesConsumed { value previous percentage }
  }
  bandwidth(granularity: $granularity) {
    averageKbps
    points { start end avgKbps minKbps maxKbps samples }
  }
  details {
    live { ${FIGURES} }
    vod { ${FIGURES} }
    devices { name live { ${FIGURES} } vod { ${FIGURES} } }
    referrers { name live { ${FIGURES} } vod { ${FIGURES} } }
    medias { content { id title } ${FIGURES} }
    liveSignals { content { id title } ${FIGURES} }
    logins(first: 1000) { totalCount nodes { id occurredAt device } }
  }
  quality {
    ${QUALITY_FIGURES}
    live { ${QUALITY_FIGURES} }
    vod { ${QUALITY_FIGURES} }
    devices { name ${QUALITY_FIGURES} }
  }`;

const ACTIVITY_VARIABLES = '$id: ID!, $period: PeriodInput!, $granularity: Granularity!, $shift: PeriodShift!';

export const USER_ACTIVITY = `query DashboardUser(${ACTIVITY_VARIABLES}) {
  user(id: $id) {
    id name gender age country state city registeredAt
    activity(period: $period) {${ACTIVITY_FIELDS}
    }
  }
}`;

export const LIVE_USER_ACTIVITY = `subscription DashboardLiveUser(${ACTIVITY_VARIABLES}) {
  liveUserActivity(id: $id, period: $period) {${ACTIVITY_FIELDS}
  }
}`;

/** One page of the user's events (the chart reads them all, page by page). */
export const USER_EVENTS = `query DashboardUserEvents($id: ID!, $period: PeriodInput!, $after: String) {
  user(id: $id) {
    activity(period: $period) {
      events(first: 1000, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes {
          id type occurredAt day position contentKind content { id title }
          device referrer bandwidthKbps sessionId
        }
      }
    }
  }
}`;

//! `User.activity(period)`: overview, events, bandwidth and consumption details.

use async_graphql::{Context, ErrorExtensions, Object, SimpleObject};
use ottstats_domain::InputError;
use ottstats_domain::granularity::buckets;
use ottstats_domain::period::Period;
use ottstats_domain::playback::activity::{ContentFigures, Details, Figures, NamedSplit, UNKNOWN, details};
use ottstats_domain::playback::bandwidth::BandwidthStats;
use ottstats_domain::tenant::Tenant;
use ottstats_persistence::versions;
use tokio::sync::OnceCell;

use super::enums::{ContentKindValue, GranularityValue, PlayerEventTypeValue};
use super::events::{EventConnection, events_page};
use super::registrations::PeriodInput;
use super::{services, tenant_context};
use crate::error::{ApiError, GqlResult};

/// The most logins `details.logins` returns.
pub const MAX_LOGINS: i32 = 1_000;

/// What one user did in a period.
pub struct UserActivity {
    tenant: Tenant,
    user_id: String,
    period: Period,
    /// `overview` and `details` share one read of the sessions.
    details: OnceCell<Details>,
}

impl UserActivity {
    pub fn resolve(ctx: &Context<'_>, user_id: &str, period: PeriodInput) -> GqlResult<UserActivity> {
        let tc = tenant_context(ctx)?;
        let tenant = tc.tenant.clone();
        let period = period.parse(tenant.time_zone, "period")?;
        tc.reads.record(versions::activity(user_id));
        Ok(UserActivity { tenant, user_id: user_id.to_owned(), period, details: OnceCell::new() })
    }

    /// The same question, to be answered afresh.
    pub fn fresh(&self) -> UserActivity {
        UserActivity {
            tenant: self.tenant.clone(),
            user_id: self.user_id.clone(),
            period: self.period,
            details: OnceCell::new(),
        }
    }

    async fn figures(&self, ctx: &Context<'_>) -> GqlResult<&Details> {
        let repo = services(ctx)?.activity.as_ref();
        self.details
            .get_or_try_init(|| async {
                let sessions = repo
                    .sessions_in_period(self.tenant.id, &self.user_id, &self.period)
                    .await
                    .map_err(|e| ApiError::Repo(e).extend())?;
                Ok::<Details, async_graphql::Error>(details(&sessions, |s| self.period.contains(s.first_at)))
            })
            .await
    }
}

/// Streams, playback starts and minutes consumed.
#[derive(SimpleObject, Clone, Copy)]
pub struct ConsumptionFigures {
    /// Sessions with at least 5 s of playback in total, counted in the period holding
    /// their first event.
    streams: i64,
    /// `PLAY` events in the period.
    playback_starts: i64,
    /// Playback time of the `PLAYING` events in the period, in minutes.
    minutes_consumed: f64,
}

impl From<Figures> for ConsumptionFigures {
    fn from(f: Figures) -> Self {
        ConsumptionFigures {
            streams: i64::try_from(f.streams).unwrap_or(i64::MAX),
            playback_starts: i64::try_from(f.playback_starts).unwrap_or(i64::MAX),
            minutes_consumed: f.minutes(),
        }
    }
}

/// What one user did in a period: each field is one panel.
#[Object]
impl UserActivity {
    /// Streams, playback starts and minutes consumed in the period.
    async fn overview(&self, ctx: &Context<'_>) -> GqlResult<ConsumptionFigures> {
        let d = self.figures(ctx).await?;
        let mut total = d.split.live;
        total.streams += d.split.vod.streams;
        total.playback_starts += d.split.vod.playback_starts;
        total.playback_ms += d.split.vod.playback_ms;
        Ok(total.into())
    }

    /// Every player event of the user in the period, ordered by time (then id).
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100, desc = "Page size, 0 to 1,000 (null: 100).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only these event types.")] types: Option<Vec<PlayerEventTypeValue>>,
    ) -> GqlResult<EventConnection> {
        events_page(ctx, &self.tenant, &self.user_id, &self.period, first.unwrap_or(100), after, types).await
    }

    /// Bandwidth reported on the user's events, per bucket (empty buckets with null
    /// figures), and the mean of every sample in the period.
    async fn bandwidth(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "GranularityValue::Hour", desc = "Bucket width.")] granularity: GranularityValue,
    ) -> GqlResult<BandwidthSeries> {
        let buckets = buckets(&self.period, granularity.into()).map_err(|e| ApiError::Input(e).extend())?;
        let repo = services(ctx)?.activity.as_ref();
        let stats =
            repo.bandwidth(self.tenant.id, &self.user_id, &buckets).await.map_err(|e| ApiError::Repo(e).extend())?;
        let all = stats.iter().fold(BandwidthStats::default(), |acc, s| acc.merge(*s));
        let points = buckets
            .iter()
            .zip(&stats)
            .map(|(b, s)| BandwidthPoint {
                start: self.period.format(b.start),
                end: self.period.format(b.end),
                avg_kbps: s.average(),
                min_kbps: s.min_kbps,
                max_kbps: s.max_kbps,
                samples: i64::try_from(s.samples).unwrap_or(i64::MAX),
            })
            .collect();
        Ok(BandwidthSeries { average_kbps: all.average(), points })
    }

    /// Consumption split Live / VOD, by device, by referrer, per media and live signal,
    /// and the logins of the period.
    async fn details(&self, ctx: &Context<'_>) -> GqlResult<ConsumptionDetails> {
        let d = self.figures(ctx).await?;
        Ok(ConsumptionDetails {
            tenant: self.tenant.clone(),
            user_id: self.user_id.clone(),
            period: self.period,
            live: d.split.live.into(),
            vod: d.split.vod.into(),
            devices: d.devices.iter().map(SplitConsumption::from).collect(),
            referrers: d.referrers.iter().map(SplitConsumption::from).collect(),
            medias: d.medias.iter().map(|c| ContentConsumption::new(c, ContentKindValue::Vod)).collect(),
            live_signals: d.live_signals.iter().map(|c| ContentConsumption::new(c, ContentKindValue::Live)).collect(),
        })
    }
}

/// Bandwidth of a period.
#[derive(SimpleObject)]
pub struct BandwidthSeries {
    /// Mean of every sample in the period; null without samples.
    average_kbps: Option<f64>,
    /// Every bucket of the period.
    points: Vec<BandwidthPoint>,
}

/// Bandwidth samples of one bucket.
#[derive(SimpleObject)]
pub struct BandwidthPoint {
    /// Start, included, RFC 3339 with the offset of the period's time zone.
    start: String,
    /// End, excluded.
    end: String,
    /// Null when the bucket has no samples.
    avg_kbps: Option<f64>,
    min_kbps: Option<f64>,
    max_kbps: Option<f64>,
    /// Events with a bandwidth in the bucket.
    samples: i64,
}

/// Consumption details of a period.
pub struct ConsumptionDetails {
    tenant: Tenant,
    user_id: String,
    period: Period,
    live: ConsumptionFigures,
    vod: ConsumptionFigures,
    devices: Vec<SplitConsumption>,
    referrers: Vec<SplitConsumption>,
    medias: Vec<ContentConsumption>,
    live_signals: Vec<ContentConsumption>,
}

/// Consumption details of a period.
#[Object]
impl ConsumptionDetails {
    /// Live signals in total.
    async fn live(&self) -> ConsumptionFigures {
        self.live
    }

    /// Video on demand in total.
    async fn vod(&self) -> ConsumptionFigures {
        self.vod
    }

    /// By the device of each session's first event ("Unknown" when missing), most
    /// minutes first.
    async fn devices(&self) -> &[SplitConsumption] {
        &self.devices
    }

    /// By the referrer of each session's first event ("Unknown" when missing), most
    /// minutes first.
    async fn referrers(&self) -> &[SplitConsumption] {
        &self.referrers
    }

    /// VOD medias viewed, most-watched first (minutes, then streams, then id).
    async fn medias(&self) -> &[ContentConsumption] {
        &self.medias
    }

    /// Live signals viewed, most-watched first (minutes, then streams, then id).
    async fn live_signals(&self) -> &[ContentConsumption] {
        &self.live_signals
    }

    /// Logins in the period, newest first.
    async fn logins(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100, desc = "At most this many, up to 1,000 (null: 100).")] first: Option<i32>,
    ) -> GqlResult<Vec<LoginEntry>> {
        let first = first.unwrap_or(100);
        if !(0..=MAX_LOGINS).contains(&first) {
            return Err(ApiError::Input(InputError::new("first", format!("must be 0 to {MAX_LOGINS}"))).extend());
        }
        let repo = services(ctx)?.activity.as_ref();
        let limit = usize::try_from(first).unwrap_or(0);
        let logins = repo
            .logins(self.tenant.id, &self.user_id, &self.period, limit)
            .await
            .map_err(|e| ApiError::Repo(e).extend())?;
        Ok(logins
            .into_iter()
            .map(|l| LoginEntry {
                occurred_at: self.period.format(l.occurred_at),
                device: l.device.unwrap_or_else(|| UNKNOWN.to_owned()),
            })
            .collect())
    }
}

/// A device or referrer with its Live / VOD split.
#[derive(SimpleObject, Clone)]
pub struct SplitConsumption {
    /// The device or referrer; "Unknown" when missing.
    name: String,
    live: ConsumptionFigures,
    vod: ConsumptionFigures,
}

impl From<&NamedSplit> for SplitConsumption {
    fn from(n: &NamedSplit) -> Self {
        SplitConsumption { name: n.name.clone(), live: n.split.live.into(), vod: n.split.vod.into() }
    }
}

/// A media or live signal and its consumption.
#[derive(Clone)]
pub struct ContentConsumption {
    content_id: String,
    kind: ContentKindValue,
    figures: ConsumptionFigures,
}

impl ContentConsumption {
    fn new(c: &ContentFigures, kind: ContentKindValue) -> Self {
        ContentConsumption { content_id: c.content_id.clone(), kind, figures: c.figures.into() }
    }
}

/// A media or live signal and its consumption.
#[Object]
impl ContentConsumption {
    /// The content ("Unknown" id when the session named none).
    async fn content(&self) -> ContentRef {
        ContentRef { id: self.content_id.clone(), kind: Some(self.kind) }
    }

    async fn streams(&self) -> i64 {
        self.figures.streams
    }

    async fn playback_starts(&self) -> i64 {
        self.figures.playback_starts
    }

    async fn minutes_consumed(&self) -> f64 {
        self.figures.minutes_consumed
    }
}

/// A content as events name it; its title comes from `upsertContents`.
pub struct ContentRef {
    pub id: String,
    pub kind: Option<ContentKindValue>,
}

/// A media or live signal.
#[Object]
impl ContentRef {
    async fn id(&self) -> &str {
        &self.id
    }

    /// The title given with `upsertContents`; null when the content is not known.
    async fn title(&self, ctx: &Context<'_>) -> GqlResult<Option<String>> {
        let tc = tenant_context(ctx)?;
        tc.reads.record(versions::CONTENTS);
        let found = tc.contents.load_one(self.id.clone()).await.map_err(|e| ApiError::Repo(e).extend())?;
        Ok(found.map(|c| c.title))
    }

    /// `LIVE` or `VOD`, as the events (or else the content) say.
    async fn kind(&self, ctx: &Context<'_>) -> GqlResult<Option<ContentKindValue>> {
        if self.kind.is_some() {
            return Ok(self.kind);
        }
        let tc = tenant_context(ctx)?;
        tc.reads.record(versions::CONTENTS);
        let found = tc.contents.load_one(self.id.clone()).await.map_err(|e| ApiError::Repo(e).extend())?;
        Ok(found.map(|c| c.kind.into()))
    }
}

/// A login.
#[derive(SimpleObject)]
pub struct LoginEntry {
    /// RFC 3339 with the offset of the period's time zone.
    occurred_at: String,
    /// "Unknown" when missing.
    device: String,
}

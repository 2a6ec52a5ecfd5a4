//! `User.activity(period)`: overview, events, bandwidth and consumption details.

use async_graphql::{Context, ID, Object, SimpleObject};
use ottstats_domain::granularity::buckets;
use ottstats_domain::period::Period;
use ottstats_domain::playback::activity::{ContentFigures, Details, Figures, NamedSplit, details};
use ottstats_domain::playback::bandwidth::BandwidthStats;
use tokio::sync::OnceCell;

use super::comparison::{ActivityChange, AmountChange, CountChange, ResolvedPeriod, shifted};
use super::connection::PageArgs;
use super::enums::{ContentKindValue, GranularityValue, PeriodShiftValue, PlayerEventTypeValue};
use super::events::{EventConnection, events_page};
use super::logins::{LoginConnection, logins_page};
use super::quality::PlaybackQuality;
use super::registrations::PeriodInput;
use super::scalars::DateTimeScalar;
use super::tenant_context;
use crate::error::{Gql, GqlResult};
use crate::reader::Reader;

/// What one user did in a period.
pub struct UserActivity {
    reader: Reader,
    user_id: String,
    period: Period,
    /// `overview` and `details` share one read of the sessions.
    details: OnceCell<Details>,
}

impl UserActivity {
    pub fn resolve(ctx: &Context<'_>, user_id: &str, period: PeriodInput) -> GqlResult<UserActivity> {
        let tc = tenant_context(ctx)?;
        let period = period.parse(tc.tenant.time_zone, "period")?;
        let reader = tc.reader.clone();
        Ok(UserActivity { reader, user_id: user_id.to_owned(), period, details: OnceCell::new() })
    }

    /// The same question, to be answered afresh by `reader`.
    pub fn fresh(&self, reader: Reader) -> UserActivity {
        UserActivity { reader, user_id: self.user_id.clone(), period: self.period, details: OnceCell::new() }
    }

    /// The same user over an earlier period.
    fn earlier(&self, shift: PeriodShiftValue) -> GqlResult<UserActivity> {
        let period = shifted(&self.period, shift)?;
        Ok(UserActivity { period, ..self.fresh(self.reader.clone()) })
    }

    /// The overview's figures: Live and VOD together.
    async fn total(&self) -> GqlResult<Figures> {
        Ok(self.figures().await?.split.total())
    }

    async fn figures(&self) -> GqlResult<&Details> {
        self.details
            .get_or_try_init(|| async {
                let sessions = self.reader.sessions(&self.user_id, &self.period).await.gql()?;
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
    async fn overview(&self) -> GqlResult<ConsumptionFigures> {
        Ok(self.total().await?.into())
    }

    /// The period as read: its bounds with their offsets, and its time zone.
    async fn period(&self) -> ResolvedPeriod {
        ResolvedPeriod::from(&self.period)
    }

    /// The same user's activity over an earlier period.
    async fn previous(
        &self,
        #[graphql(default_with = "PeriodShiftValue::PreviousPeriod", desc = "Which earlier period.")]
        shift: PeriodShiftValue,
    ) -> GqlResult<UserActivity> {
        self.earlier(shift)
    }

    /// The overview's figures against those of an earlier period.
    async fn change(
        &self,
        #[graphql(default_with = "PeriodShiftValue::PreviousPeriod", desc = "Which earlier period.")]
        shift: PeriodShiftValue,
    ) -> GqlResult<ActivityChange> {
        let earlier = self.earlier(shift)?;
        let (now, before) =
            (ConsumptionFigures::from(self.total().await?), ConsumptionFigures::from(earlier.total().await?));
        Ok(ActivityChange {
            streams: CountChange::new(now.streams, before.streams),
            playback_starts: CountChange::new(now.playback_starts, before.playback_starts),
            minutes_consumed: AmountChange::new(now.minutes_consumed, before.minutes_consumed),
        })
    }

    /// Every player event of the user in the period, ordered by time (then id), a page
    /// at a time: forward with `first` and `after`, backward with `last` and `before`.
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first events of the page's window, 0 to 1,000; 100 when neither `first` nor \
                          `last` is given. Not with `last`.")]
        first: Option<i32>,
        #[graphql(desc = "Only events after this cursor (the `endCursor` of the previous page).")] after: Option<
            String,
        >,
        #[graphql(desc = "The last events of the page's window, 0 to 1,000. Not with `first`.")] last: Option<i32>,
        #[graphql(desc = "Only events before this cursor (the `startCursor` of the next page).")] before: Option<
            String,
        >,
        #[graphql(desc = "Only these event types.")] types: Option<Vec<PlayerEventTypeValue>>,
    ) -> GqlResult<EventConnection> {
        let args = PageArgs { first, after, last, before };
        events_page(ctx, &self.reader, &self.user_id, &self.period, args, types).await
    }

    /// Bandwidth reported on the user's events, per bucket (empty buckets with null
    /// figures), and the mean of every sample in the period.
    async fn bandwidth(
        &self,
        #[graphql(default_with = "GranularityValue::Hour", desc = "Bucket width.")] granularity: GranularityValue,
    ) -> GqlResult<BandwidthSeries> {
        let buckets = buckets(&self.period, granularity.into()).gql()?;
        let stats = self.reader.bandwidth(&self.user_id, &buckets).await.gql()?;
        let all = stats.iter().fold(BandwidthStats::default(), |acc, s| acc.merge(*s));
        let points = buckets
            .iter()
            .zip(&stats)
            .map(|(b, s)| BandwidthPoint {
                start: self.period.format(b.start).into(),
                end: self.period.format(b.end).into(),
                avg_kbps: s.average(),
                min_kbps: s.min_kbps,
                max_kbps: s.max_kbps,
                samples: i64::try_from(s.samples).unwrap_or(i64::MAX),
            })
            .collect();
        Ok(BandwidthSeries { average_kbps: all.average(), points })
    }

    /// Startup time, exits before start, rebuffering and errors of the user's sessions,
    /// in total, Live / VOD and by device.
    async fn quality(&self) -> GqlResult<PlaybackQuality> {
        let q = self.reader.quality(&self.user_id, &self.period).await.gql()?;
        Ok(PlaybackQuality::from(&q))
    }

    /// Consumption split Live / VOD, by device, by referrer, per media and live signal,
    /// and the logins of the period.
    async fn details(&self) -> GqlResult<ConsumptionDetails> {
        let d = self.figures().await?;
        let content = |c, kind| ContentConsumption::new(&self.reader, c, kind);
        Ok(ConsumptionDetails {
            reader: self.reader.clone(),
            user_id: self.user_id.clone(),
            period: self.period,
            live: d.split.live.into(),
            vod: d.split.vod.into(),
            devices: d.devices.iter().map(SplitConsumption::from).collect(),
            referrers: d.referrers.iter().map(SplitConsumption::from).collect(),
            medias: d.medias.iter().map(|c| content(c, ContentKindValue::Vod)).collect(),
            live_signals: d.live_signals.iter().map(|c| content(c, ContentKindValue::Live)).collect(),
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
    /// Start, included, with the offset of the period's time zone.
    start: DateTimeScalar,
    /// End, excluded.
    end: DateTimeScalar,
    /// Mean of the bucket's samples; null when the bucket has none.
    avg_kbps: Option<f64>,
    /// Lowest sample; null when the bucket has none.
    min_kbps: Option<f64>,
    /// Highest sample; null when the bucket has none.
    max_kbps: Option<f64>,
    /// Events with a bandwidth in the bucket.
    samples: i64,
}

/// Consumption details of a period.
pub struct ConsumptionDetails {
    reader: Reader,
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

    /// Logins in the period, newest first, a page at a time: forward (to older logins)
    /// with `first` and `after`, backward with `last` and `before`.
    async fn logins(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first logins of the page's window, 0 to 1,000; 100 when neither `first` nor \
                          `last` is given. Not with `last`.")]
        first: Option<i32>,
        #[graphql(desc = "Only logins after this cursor (the `endCursor` of the previous page).")] after: Option<
            String,
        >,
        #[graphql(desc = "The last logins of the page's window, 0 to 1,000. Not with `first`.")] last: Option<i32>,
        #[graphql(desc = "Only logins before this cursor (the `startCursor` of the next page).")] before: Option<
            String,
        >,
    ) -> GqlResult<LoginConnection> {
        let args = PageArgs { first, after, last, before };
        logins_page(ctx, &self.reader, &self.user_id, &self.period, args).await
    }
}

/// A device or referrer with its Live / VOD split.
#[derive(SimpleObject, Clone)]
pub struct SplitConsumption {
    /// The device or referrer; "Unknown" when missing.
    name: String,
    /// Live signals watched on this device (or from this referrer).
    live: ConsumptionFigures,
    /// Video on demand watched on this device (or from this referrer).
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
    reader: Reader,
    content_id: String,
    kind: ContentKindValue,
    figures: ConsumptionFigures,
}

impl ContentConsumption {
    fn new(reader: &Reader, c: &ContentFigures, kind: ContentKindValue) -> Self {
        ContentConsumption { reader: reader.clone(), content_id: c.content_id.clone(), kind, figures: c.figures.into() }
    }
}

/// A media or live signal and its consumption.
#[Object]
impl ContentConsumption {
    /// The content ("Unknown" id when the session named none).
    async fn content(&self) -> ContentRef {
        ContentRef { id: self.content_id.clone(), kind: Some(self.kind), reader: self.reader.clone() }
    }

    /// Sessions of this content with at least 5 s of playback, counted in the period
    /// holding their first event.
    async fn streams(&self) -> i64 {
        self.figures.streams
    }

    /// `PLAY` events of this content's sessions in the period.
    async fn playback_starts(&self) -> i64 {
        self.figures.playback_starts
    }

    /// Playback time of this content in the period, in minutes.
    async fn minutes_consumed(&self) -> f64 {
        self.figures.minutes_consumed
    }
}

/// A content as events name it; its title comes from `upsertContents`.
pub struct ContentRef {
    pub id: String,
    pub kind: Option<ContentKindValue>,
    /// Titles are read by the reader of the answer this content is part of.
    pub reader: Reader,
}

/// A media or live signal.
#[Object]
impl ContentRef {
    /// The operator's id for the content.
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }

    /// The title given with `upsertContents`; null when the content is not known.
    async fn title(&self) -> GqlResult<Option<String>> {
        let found = self.reader.content(self.id.clone()).await.gql()?;
        Ok(found.map(|c| c.title))
    }

    /// `LIVE` or `VOD`, as the events (or else the content) say.
    async fn kind(&self) -> GqlResult<Option<ContentKindValue>> {
        if self.kind.is_some() {
            return Ok(self.kind);
        }
        let found = self.reader.content(self.id.clone()).await.gql()?;
        Ok(found.map(|c| c.kind.into()))
    }
}

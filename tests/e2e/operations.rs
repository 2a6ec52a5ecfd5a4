//! The operations tests send again and again, one `.graphql` file each in `operations/`
//! (named by what it asks). `operation_files` validates every file of that folder against
//! the schema and fails when one is not used: every file has its constant here, and a
//! module uses it as `operations::NAME` (or imports it with `use crate::operations::…`).

/// A dashboard's first panels: `registrations(period: $p) { total byGender { gender count } }`.
pub const DASHBOARD: &str = include_str!("operations/dashboard.graphql");

/// `upsertUsers(users: $u) { accepted }`.
pub const UPSERT_USERS: &str = include_str!("operations/upsert_users.graphql");

/// `upsertUsers(users: $users)` with the whole report: `accepted duplicates rejected { … }`.
pub const UPSERT_USERS_REPORT: &str = include_str!("operations/upsert_users_report.graphql");

/// `recordEvents(events: $e) { accepted }`.
pub const RECORD_EVENTS: &str = include_str!("operations/record_events.graphql");

/// `subscription { liveRegistrations(period: $p) { total } }`.
pub const LIVE_REGISTRATIONS: &str = include_str!("operations/live_registrations.graphql");

/// January 2026's total, with no variables (the text alone is the request).
pub const JANUARY_TOTAL: &str = include_str!("operations/january_total.graphql");

/// `user(id: $id) { name activity(period: $p) { overview { … } } }`.
pub const USER_ACTIVITY: &str = include_str!("operations/user_activity.graphql");

/// Every field reachable from `Query`, in the operations `EveryRegistrationField`,
/// `EveryUserField` and `EveryLimit` (their variables are described in the file).
pub const EVERY_FIELD: &str = include_str!("operations/every_field.graphql");

/// One read path per operation (`OneProfile`, `SeveralProfiles`, `OneTotal`, `OneOverview`,
/// `OneBandwidth`, `OneEventPage`, `OneTitleList`), for `scope_freshness`.
pub const ONE_READ_EACH: &str = include_str!("operations/one_read_each.graphql");

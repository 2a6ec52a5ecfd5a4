//! The server's public API: GraphQL over HTTP (`POST /graphql`) and where its WebSocket is.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::Common;
use crate::users::{self, UserFactory};

const UPSERT: &str = "mutation($users: [UserInput!]!) { upsertUsers(users: $users) \
                      { accepted duplicates rejected { index code message } } }";

/// A loopback `http://` URL (127.0.0.0/8, `localhost` or `[::1]`), or why not.
pub fn loopback_url(text: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text).map_err(|e| format!("--url {text:?}: {e}"))?;
    if url.scheme() != "http" {
        return Err(format!("--url {text:?}: only http:// is supported"));
    }
    let host = url.host_str().unwrap_or("").trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        return Err(format!("--url {text:?}: refusing a host that is not loopback (127.0.0.0/8, localhost, [::1])"));
    }
    Ok(url)
}

pub struct Api {
    http: reqwest::Client,
    graphql_url: reqwest::Url,
    pub ws_url: String,
    pub key: String,
    auth: String,
    dashboard: String,
    pub from: String,
    pub to: String,
    pub time_zone: String,
}

impl Api {
    /// A client keeping up to `connections` connections open.
    pub fn new(common: &Common, connections: usize) -> Result<Api, String> {
        let base = loopback_url(&common.url)?;
        let key =
            common.api_key.clone().filter(|k| !k.trim().is_empty()).ok_or("--api-key (or API_KEY) is required")?;
        let dashboard = std::fs::read_to_string(&common.query_file)
            .map_err(|e| format!("cannot read --query-file {}: {e}", common.query_file.display()))?;
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(connections.max(1))
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .timeout(common.timeout)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let graphql_url = base.join("/graphql").map_err(|e| e.to_string())?;
        let mut ws = base.join("/graphql/ws").map_err(|e| e.to_string())?;
        ws.set_scheme("ws").map_err(|()| "cannot make a ws:// URL")?;
        Ok(Api {
            http,
            graphql_url,
            ws_url: ws.to_string(),
            auth: format!("Bearer {}", key.trim()),
            key: key.trim().to_owned(),
            dashboard,
            from: common.from.clone(),
            to: common.to.clone(),
            time_zone: common.time_zone.clone(),
        })
    }

    /// The dashboard request for the period `[from, self.to)`.
    fn dashboard_body(&self, from: &str) -> Vec<u8> {
        let period = json!({ "from": from, "to": self.to, "timeZone": self.time_zone });
        let body = json!({ "operationName": "Dashboard", "query": self.dashboard, "variables": { "period": period } });
        serde_json::to_vec(&body).unwrap_or_default()
    }

    /// Posts a GraphQL body; an error for a transport failure or a status other than 200.
    async fn exchange(&self, body: Vec<u8>) -> Result<reqwest::Response, String> {
        let response = self
            .http
            .post(self.graphql_url.clone())
            .header(AUTHORIZATION, &self.auth)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("transport: {e}"))?;
        let status = response.status();
        if status != reqwest::StatusCode::OK {
            let text = response.text().await.unwrap_or_default();
            return Err(format!("HTTP {status}: {}", clip(&text)));
        }
        Ok(response)
    }

    async fn exchange_json(&self, body: Vec<u8>) -> Result<Value, String> {
        let bytes = self.exchange(body).await?.bytes().await.map_err(|e| format!("transport: {e}"))?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))?;
        match value.get("errors") {
            Some(errors) => Err(format!("GraphQL errors: {}", clip(&errors.to_string()))),
            None => Ok(value),
        }
    }

    /// Sends the dashboard for `[from, to)`; the body's size when it is a 200 without
    /// `"errors"` (looked for as a string, as `bench/dashboard.lua` does: no full parse).
    pub async fn dashboard(&self, from: &str) -> Result<usize, String> {
        let bytes =
            self.exchange(self.dashboard_body(from)).await?.bytes().await.map_err(|e| format!("transport: {e}"))?;
        let text = std::str::from_utf8(&bytes).map_err(|_| "the body is not UTF-8".to_owned())?;
        if text.contains("\"errors\"") || !text.contains("\"data\"") {
            return Err(format!("GraphQL errors: {}", clip(text)));
        }
        Ok(bytes.len())
    }

    /// Sends the dashboard and returns `registrations.total`.
    pub async fn dashboard_total(&self, from: &str) -> Result<i64, String> {
        let value = self.exchange_json(self.dashboard_body(from)).await?;
        value["data"]["registrations"]["total"].as_i64().ok_or_else(|| "no data.registrations.total".to_owned())
    }

    /// Runs any GraphQL request; its `data`, or an error for errors.
    pub async fn graphql(&self, query: &str, variables: Value) -> Result<Value, String> {
        let body = json!({ "query": query, "variables": variables });
        Ok(self.exchange_json(serde_json::to_vec(&body).unwrap_or_default()).await?["data"].clone())
    }

    /// `GET /metrics` (Prometheus text).
    pub async fn metrics(&self) -> Result<String, String> {
        let url = self.graphql_url.join("/metrics").map_err(|e| e.to_string())?;
        let response = self.http.get(url).send().await.map_err(|e| format!("GET /metrics: {e}"))?;
        response.text().await.map_err(|e| format!("GET /metrics: {e}"))
    }

    /// Writes one user with `upsertUsers`; an error unless the report says accepted=1.
    pub async fn upsert_user(&self, user: Value) -> Result<(), String> {
        let body = json!({ "query": UPSERT, "variables": { "users": [user] } });
        let value = self.exchange_json(serde_json::to_vec(&body).unwrap_or_default()).await?;
        let report = &value["data"]["upsertUsers"];
        if report["accepted"] != 1 {
            return Err(format!("upsertUsers did not accept the user: {}", clip(&report.to_string())));
        }
        Ok(())
    }
}

/// Where writes land: uniformly in the dashboard period, kept two days inside each end
/// (whatever the time zone) and in the past (the server refuses the far future).
pub struct Backdating {
    lo_ms: i64,
    hi_ms: i64,
}

impl Backdating {
    pub fn new(api: &Api) -> Result<Backdating, String> {
        const DAY_MS: i64 = 86_400_000;
        let lo_ms = (users::parse_day(&api.from)? + 2) * DAY_MS;
        let hi_ms = ((users::parse_day(&api.to)? - 2) * DAY_MS).min(users::now_ms() - 60_000);
        if hi_ms <= lo_ms {
            return Err(format!("the period {} .. {} is too short, or in the future, to write into", api.from, api.to));
        }
        Ok(Backdating { lo_ms, hi_ms })
    }

    /// A new user registered at a random instant of the period.
    pub fn user(&self, users: &mut UserFactory) -> Value {
        let at = users.rng().range(self.lo_ms, self.hi_ms);
        users.user(at)
    }
}

fn clip(text: &str) -> String {
    match text.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_are_accepted() {
        for ok in ["http://127.0.0.1:18080", "http://127.4.5.6", "http://localhost:8080/", "http://[::1]:18080"] {
            assert!(loopback_url(ok).is_ok(), "{ok}");
        }
        for bad in ["http://10.0.0.1:18080", "http://example.com", "https://127.0.0.1", "http://[::ffff:8.8.8.8]"] {
            assert!(loopback_url(bad).is_err(), "{bad}");
        }
    }
}

//! The dashboard page (`GET /`, `/dashboard`) and its embedded assets. What the page
//! draws is checked in headless Chromium by `.ci/clients` (clients/dashboard.mjs); that
//! the committed bundle matches its TypeScript sources, by `.ci/dashboard`.

use std::io::Read;

use ottstats_tests::Env;

fn get(client: &reqwest::Client, url: String, accept_encoding: Option<&str>) -> reqwest::RequestBuilder {
    let r = client.get(url);
    match accept_encoding {
        Some(a) => r.header("accept-encoding", a),
        None => r,
    }
}

#[tokio::test]
async fn the_page_is_served_at_the_root_and_at_dashboard() {
    let env = Env::sqlite().await;
    let server = env.serve(None).await;
    for path in ["/", "/dashboard"] {
        let r = reqwest::get(server.url(path)).await.unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(r.status(), 200, "{path}");
        let header = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert!(header("content-type").starts_with("text/html"), "{path}");
        let policy = header("content-security-policy");
        assert!(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(!policy.contains("script-src 'self' 'unsafe-inline'"), "no inline script may run: {policy}");
        assert_eq!(header("cache-control"), "no-store");
        let page = r.text().await.unwrap_or_default();
        assert!(page.contains(r#"<script defer src="/dashboard/assets/dashboard.js"></script>"#), "{page}");
        // Without --demo nothing is filled in.
        assert!(page.contains(r#"<script type="application/json" id="ottstats-demo">null</script>"#), "{page}");
        assert!(!page.contains("unpkg") && !page.contains("cdn.") && !page.contains("https://"), "offline: {page}");
    }
}

#[tokio::test]
async fn the_demo_fills_in_its_key_and_user_escaped() {
    let env = Env::sqlite().await;
    let period = (chrono::NaiveDate::from_ymd_opt(2026, 11, 1), chrono::NaiveDate::from_ymd_opt(2026, 12, 3));
    let period = (period.0.unwrap_or_default(), period.1.unwrap_or_default());
    let demo = ottstats_server::Prefill { api_key: "ott_9_demo</script><b>".into(), user: Some("u7".into()), period };
    let server = env.serve(Some(demo)).await;
    let page = reqwest::get(server.url("/")).await.unwrap_or_else(|e| panic!("{e}"));
    let page = page.text().await.unwrap_or_default();
    let json = page
        .split(r#"<script type="application/json" id="ottstats-demo">"#)
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .unwrap_or_else(|| panic!("no demo element in {page}"));
    // `<` is escaped, so the key cannot end the element; the JSON still reads back.
    assert!(!json.contains('<'), "{json}");
    let value: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(value, serde_json::json!({"key": "ott_9_demo</script><b>", "user": "u7"}));
}

#[tokio::test]
async fn the_assets_are_embedded_gzipped_or_plain_as_accepted() {
    let env = Env::sqlite().await;
    let server = env.serve(None).await;
    let client = reqwest::Client::builder().no_gzip().build().unwrap_or_else(|e| panic!("{e}"));
    let js = server.url("/dashboard/assets/dashboard.js");
    let r = get(&client, js.clone(), Some("gzip, br")).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers().get("content-encoding").and_then(|v| v.to_str().ok()), Some("gzip"));
    assert_eq!(r.headers().get("x-content-type-options").and_then(|v| v.to_str().ok()), Some("nosniff"));
    let gzipped = r.bytes().await.unwrap_or_default();
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(&gzipped[..]).read_to_string(&mut unzipped).unwrap_or_else(|e| panic!("{e}"));
    let r = get(&client, js, Some("br")).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.headers().get("content-encoding"), None, "never compressed again on demand");
    let plain = r.text().await.unwrap_or_default();
    assert_eq!(plain, unzipped, "the plain script is the gzipped one unzipped");
    // The bundle holds the page's code and ECharts, and asks the server's own API.
    assert!(plain.len() > 100_000 && plain.contains("/graphql/ws") && plain.contains("DashboardRegistrations"));
    let r = get(&client, server.url("/dashboard/assets/dashboard.css"), None)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("text/css"));
    assert_eq!(r.headers().get("x-content-type-options").and_then(|v| v.to_str().ok()), Some("nosniff"));
    assert!(r.text().await.unwrap_or_default().contains(".panel"));
    let r = get(&client, server.url("/dashboard/assets/nope.js"), None).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), 404);
}

/// The demo's key (scopes `read pii write`) in a page: no other origin may read the page,
/// and a page asked for under a name that is not loopback (DNS rebinding) goes without it.
#[tokio::test]
async fn the_demo_key_stays_on_this_machine() {
    let env = Env::sqlite().await;
    let period = (chrono::NaiveDate::from_ymd_opt(2026, 11, 1), chrono::NaiveDate::from_ymd_opt(2026, 12, 3));
    let period = (period.0.unwrap_or_default(), period.1.unwrap_or_default());
    let demo = ottstats_server::Prefill { api_key: "ott_9_demokey".into(), user: Some("u7".into()), period };
    let server = env.serve(Some(demo)).await;
    let port = server.url("").rsplit(':').next().unwrap_or_default().to_owned();
    let client = reqwest::Client::new();
    let page = |path: &'static str, host: Option<String>| {
        let mut r = client.get(server.url(path)).header("accept", "text/html").header("origin", "https://evil.example");
        if let Some(host) = host {
            r = r.header("host", host);
        }
        async move {
            let r = r.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(r.status(), 200, "{path}");
            let shared = r.headers().get("access-control-allow-origin").cloned();
            (shared, r.text().await.unwrap_or_default())
        }
    };
    for path in ["/", "/dashboard", "/graphql"] {
        let (shared, text) = page(path, None).await;
        assert_eq!(shared, None, "{path} is readable from another origin");
        assert!(text.contains("ott_9_demokey"), "{path} asked for by 127.0.0.1 has the key");
        for host in [format!("localhost:{port}"), format!("[::1]:{port}")] {
            let (_, text) = page(path, Some(host.clone())).await;
            assert!(text.contains("ott_9_demokey"), "{path} asked for as {host} has the key");
        }
        for host in [format!("evil.example:{port}"), format!("10.0.0.5:{port}"), "evil.example".to_owned()] {
            let (_, text) = page(path, Some(host.clone())).await;
            assert!(!text.contains("ott_9_demokey"), "{path} asked for as {host} has the key: {text}");
        }
    }
    // The API itself stays open to every origin (DESIGN.md's default).
    let r = client
        .post(server.url("/graphql"))
        .header("origin", "https://evil.example")
        .json(&serde_json::json!({"query": "{ __typename }"}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(r.headers().get("access-control-allow-origin").is_some(), "{:?}", r.headers());
}

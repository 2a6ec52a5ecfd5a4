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
    assert!(r.text().await.unwrap_or_default().contains(".panel"));
    let r = get(&client, server.url("/dashboard/assets/nope.js"), None).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), 404);
}

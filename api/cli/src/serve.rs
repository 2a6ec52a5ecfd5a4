//! `ottstats serve`: open the store, optionally seed the demo, and serve until told to stop.

use ottstats_cache::RedisLink;
use ottstats_graphql::Services;
use ottstats_server::{AppState, Prefill, Settings, headroom_router, router};
use ottstats_store::Store;
use tokio::net::TcpListener;

use crate::CliError;

/// Serves with `settings` (built once, from the defaults, the file, the environment and
/// the flags), seeding the demo first when `demo`.
pub async fn serve(settings: Settings, demo: bool) -> Result<(), CliError> {
    let store = Store::open_with(&settings.database).await?;
    // An empty OTTSTATS_REDIS_URL means no Redis, as an unset one does.
    let redis_url = settings.redis.url();
    let redis = redis_url.map(|url| RedisLink::with_settings(url, &settings.redis)).transpose()?;
    match (&redis, redis_url) {
        (Some(link), Some(url)) => {
            let url = ottstats_cache::redis_link::redacted(url);
            // The server starts either way (Redis accelerates, the database answers), but
            // a Redis that is wrong from the start deserves a word before the first request.
            match link.reach(settings.redis.start_check).await {
                Ok(()) => tracing::info!(redis = %url, "cache and live-update notices shared through Redis"),
                Err(reason) => tracing::warn!(
                    redis = %url,
                    %reason,
                    "Redis cannot be reached: serving from the database and the in-process cache; Redis is used as soon as it answers"
                ),
            }
        }
        _ => tracing::info!("in-process cache (set OTTSTATS_REDIS_URL to share it between processes)"),
    }
    let services = Services::with_settings(store.clone(), redis, settings.services());
    let demo = if demo { Some(crate::demo::prepare(&services).await?) } else { None };
    // Every tenant's index loads in the background; until then its panels come from SQL.
    let engine = services.engine.clone();
    tokio::spawn(async move { engine.preload().await });
    let bind = settings.http.bind;
    let listener = TcpListener::bind(bind).await.map_err(|e| CliError::Io(format!("cannot listen on {bind}"), e))?;
    let addr = listener.local_addr().map_err(|e| CliError::Io("cannot read the bound address".into(), e))?;
    tracing::info!(%addr, "serving GraphQL at http://{addr}/graphql");
    if let Some(demo) = &demo {
        println!("dashboard: http://{addr}/ (the demo key and user are filled in)");
        println!("GraphiQL: http://{addr}/graphql (the demo key, user and period are filled in)");
        if let Some(user) = &demo.featured_user {
            println!("a demo user with playback activity: {user}");
        }
        let (from, to) = demo.period;
        println!("the demo's period (its 30 days of playback, local dates): from {from} to {to}");
        println!("variables of the README's UserActivity example: {}", demo.variables());
        println!("demo API key:");
        println!("{}", demo.api_key);
    }
    if settings.http.trusted_documents {
        tracing::info!("trusted documents only: operations not registered with `ottstats documents add` are refused");
    }
    let prefill = demo.map(|d| Prefill { api_key: d.api_key, user: d.featured_user, period: d.period });
    let limits = settings.connections;
    let state = AppState::from_settings(services, prefill, settings);
    tracing::info!(max_connections = limits.max, "accepting connections");
    ottstats_server::listener::serve(
        listener,
        router(state.clone()),
        headroom_router(state),
        limits,
        shutdown_signal(),
    )
    .await;
    tracing::info!("shut down; closing the database");
    store.close().await?;
    Ok(())
}

/// Ctrl-C or SIGTERM: stop accepting, finish requests in flight. SIGTERM is listened
/// for from the call on, not from the first poll: the server may answer `/healthz`
/// before its loop first polls this, and a SIGTERM in between would kill the process
/// instead of stopping it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    async move {
        let ctrl_c = async {
            if let Err(e) = tokio::signal::ctrl_c().await {
                tracing::warn!(error = %e, "cannot listen for Ctrl-C");
                std::future::pending::<()>().await;
            }
        };
        #[cfg(unix)]
        let terminate = async move {
            match terminate {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => {},
            () = terminate => {},
        }
        tracing::info!("shutdown requested");
    }
}

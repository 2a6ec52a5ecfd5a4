//! Gives every error a code: those raised by async-graphql itself (parse, validation,
//! limits) arrive without one.
//!
//! The extension's `request` hook runs for `Schema::execute` only, not for
//! `execute_stream` (subscriptions and everything else over `/graphql/ws`): the socket
//! calls [`add_code`] on every error it sends instead (`http::ws_fanout`).

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest};
use async_graphql::{Response, ServerError, Value};

use crate::error::Code;

pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodesExtension)
    }
}

struct ErrorCodesExtension;

#[async_trait::async_trait]
impl Extension for ErrorCodesExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        for error in &mut response.errors {
            add_code(error);
        }
        response
    }
}

/// Sets `extensions.code` on an error that has none.
pub fn add_code(error: &mut ServerError) {
    let has_code = error.extensions.as_ref().is_some_and(|e| e.get("code").is_some());
    if has_code {
        return;
    }
    let code = if is_limit_error(&error.message) { Code::QueryTooComplex } else { Code::BadUserInput };
    error.extensions.get_or_insert_with(Default::default).set("code", Value::from(code.as_str()));
}

fn is_limit_error(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("too complex")
        || m.contains("nested too deep")
        || m.contains("recursion depth")
        || m.contains("too many")
}

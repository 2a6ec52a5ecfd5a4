//! Scope checks, declared on the fields they guard (`#[graphql(guard = "Needs(Scope::Read)")]`):
//! every root field but `limits` names the scope it needs. Fields of personal data use
//! [`personal`] instead, so that they read as null (async-graphql leaves an erroring field
//! out of its object altogether).

use async_graphql::{Context, Guard};
use ottstats_domain::access::Scope;

use super::tenant_context;
use crate::error::ApiError;

/// The field needs the key to grant this scope; `FORBIDDEN` at the field's path otherwise.
pub struct Needs(pub Scope);

impl Guard for Needs {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let tc = tenant_context(ctx)?;
        if tc.scopes.contains(self.0) { Ok(()) } else { Err(ApiError::Forbidden(self.0).into()) }
    }
}

/// `value` when the key grants `pii`; otherwise null, with `FORBIDDEN` at the field's path.
pub fn personal<T>(ctx: &Context<'_>, value: T) -> Option<T> {
    let allowed = tenant_context(ctx).is_ok_and(|tc| tc.scopes.contains(Scope::Pii));
    if allowed {
        return Some(value);
    }
    let error = async_graphql::Error::from(ApiError::Forbidden(Scope::Pii)).into_server_error(ctx.item.pos);
    ctx.add_error(ctx.set_error_path(error));
    None
}

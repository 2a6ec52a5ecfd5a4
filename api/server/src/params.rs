//! The parameters of a GraphQL-over-HTTP request, read strictly from a JSON body or a
//! query string: `query` and `operationName` are strings, `variables` and `extensions`
//! maps, each may be `null` or absent. Anything else is a request error naming the
//! parameter, before a document is looked at.

use std::collections::HashMap;

use async_graphql::Variables;
use axum::extract::Query;
use axum::http::Uri;
use ottstats_domain::InputError;
use serde_json::{Map, Value};

/// What a request asks, before its document is found (it may come by hash).
#[derive(Debug, Default)]
pub struct Params {
    pub query: Option<String>,
    pub operation_name: Option<String>,
    pub variables: Variables,
    pub extensions: Map<String, Value>,
}

impl Params {
    /// A POST body: one JSON object.
    pub fn from_json(body: &[u8]) -> Result<Params, InputError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(InputError::new("body", "the request body is empty: send a JSON object with `query`"));
        }
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| InputError::new("body", format!("the request body is not JSON: {e}")))?;
        let Value::Object(mut fields) = value else {
            let what =
                if value.is_array() { "a batch (a JSON array), which is not accepted" } else { "not a JSON object" };
            return Err(InputError::new("body", format!("the request body is {what}: send one object with `query`")));
        };
        Ok(Params {
            query: string(fields.remove("query"), "query")?,
            operation_name: string(fields.remove("operationName"), "operationName")?,
            variables: Variables::from_json(Value::Object(map(fields.remove("variables"), "variables")?)),
            extensions: map(fields.remove("extensions"), "extensions")?,
        })
    }

    /// A GET's query string: `variables` and `extensions` are JSON texts.
    pub fn from_query_string(uri: &Uri) -> Result<Params, InputError> {
        let Query(pairs) = Query::<HashMap<String, String>>::try_from_uri(uri)
            .map_err(|e| InputError::new("query", format!("the query string cannot be read: {e}")))?;
        let json = |name: &'static str| -> Result<Option<Value>, InputError> {
            match pairs.get(name).map(String::as_str) {
                None | Some("") => Ok(None),
                Some(text) => serde_json::from_str(text)
                    .map(Some)
                    .map_err(|e| InputError::new(name, format!("`{name}` is not JSON: {e}"))),
            }
        };
        Ok(Params {
            query: pairs.get("query").cloned(),
            operation_name: pairs.get("operationName").filter(|n| !n.is_empty()).cloned(),
            variables: Variables::from_json(Value::Object(map(json("variables")?, "variables")?)),
            extensions: map(json("extensions")?, "extensions")?,
        })
    }
}

fn string(value: Option<Value>, name: &'static str) -> Result<Option<String>, InputError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(InputError::new(name, format!("`{name}` must be a string, not {}", kind(&other)))),
    }
}

fn map(value: Option<Value>, name: &'static str) -> Result<Map<String, Value>, InputError> {
    match value {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(fields)) => Ok(fields),
        Some(other) => Err(InputError::new(name, format!("`{name}` must be a map, not {}", kind(&other)))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argument(e: InputError) -> String {
        e.argument.to_string()
    }

    #[test]
    fn bodies_are_read_strictly() {
        let p = Params::from_json(br#"{"query":"{ a }","operationName":null,"variables":{"x":1},"extensions":null}"#)
            .unwrap();
        assert_eq!((p.query.as_deref(), p.operation_name), (Some("{ a }"), None));
        assert_eq!(p.variables.get("x"), Some(&async_graphql::Value::from(1)));
        for (body, name) in [
            (&br#"{"query":{"obj":"ect"}}"#[..], "query"),
            (br#"{"query":0}"#, "query"),
            (br#"{"query":"{ a }","operationName":false}"#, "operationName"),
            (br#"{"query":"{ a }","variables":"string"}"#, "variables"),
            (br#"{"query":"{ a }","variables":["array"]}"#, "variables"),
            (br#"{"query":"{ a }","extensions":0}"#, "extensions"),
            (br#"{ "not a JSON"#, "body"),
            (br#"[{"query":"{ a }"}]"#, "body"),
            (b"", "body"),
        ] {
            assert_eq!(argument(Params::from_json(body).unwrap_err()), name, "{}", String::from_utf8_lossy(body));
        }
        // A missing query is for the caller to judge: it may come by hash.
        assert!(Params::from_json(br#"{"notquery":"{ a }"}"#).unwrap().query.is_none());
    }

    #[test]
    fn query_strings_carry_json_texts() {
        let get = |q: &str| Params::from_query_string(&format!("/graphql?{q}").parse::<Uri>().unwrap());
        let p =
            get("query=query%20T(%24n%3A%20String!)%20%7B%20a%20%7D&variables=%7B%22n%22%3A%22x%22%7D&operationName=T")
                .unwrap();
        assert_eq!(p.query.as_deref(), Some("query T($n: String!) { a }"));
        assert_eq!(p.operation_name.as_deref(), Some("T"));
        assert_eq!(p.variables.get("n"), Some(&async_graphql::Value::from("x")));
        assert_eq!(argument(get("query=%7Ba%7D&variables=%7Bnot").unwrap_err()), "variables");
        assert_eq!(argument(get("query=%7Ba%7D&extensions=3").unwrap_err()), "extensions");
        let bare = Params::from_query_string(&"/graphql".parse::<Uri>().unwrap()).unwrap();
        assert!(bare.query.is_none());
    }
}

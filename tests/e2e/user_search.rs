//! `usersByIdPrefix`: the users whose id starts with a prefix, in id order, of the key's
//! tenant only.

use ottstats_tests::{Env, first_error, on_each_backend};
use serde_json::{Value, json};

const SEARCH: &str = "query($p: String!, $n: Int) { usersByIdPrefix(idPrefix: $p, first: $n) { id name } }";
const UPSERT: &str = "mutation($u: [UserInput!]!) { upsertUsers(users: $u) { accepted rejected { message } } }";

fn users(ids: &[&str]) -> Value {
    let all: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "name": format!("Name of {id}"), "registeredAt": "2026-01-05T12:00:00Z"}))
        .collect();
    json!({ "u": all })
}

fn ids(answer: &Value) -> Vec<String> {
    let list = answer["data"]["usersByIdPrefix"].as_array().cloned().unwrap_or_default();
    list.iter().map(|u| u["id"].as_str().unwrap_or_default().to_owned()).collect()
}

async fn finds_ids_by_their_beginning_in_order(env: Env) {
    let (acme, _) = env.tenant("Acme", "CL", chrono_tz::America::Santiago).await;
    let (other, _) = env.tenant("Other", "CL", chrono_tz::America::Santiago).await;
    // "u1:" sorts right after "u19" (':' follows '9'): just past the prefix "u1"'s range.
    let written = env.run(Some(&acme), UPSERT, users(&["u2", "u100", "u1", "u10", "u1:", "U1", "ü1", "x"])).await;
    assert_eq!(written["data"]["upsertUsers"]["accepted"], 8, "{written}");
    env.run(Some(&other), UPSERT, users(&["u11"])).await;

    let found = env.run(Some(&acme), SEARCH, json!({"p": "u1"})).await;
    assert_eq!(ids(&found), ["u1", "u10", "u100", "u1:"], "{found}");
    assert_eq!(found["data"]["usersByIdPrefix"][0]["name"], "Name of u1");
    let found = env.run(Some(&acme), SEARCH, json!({"p": "u1", "n": 2})).await;
    assert_eq!(ids(&found), ["u1", "u10"], "the first 2");
    let found = env.run(Some(&acme), SEARCH, json!({"p": " u10 "})).await;
    assert_eq!(ids(&found), ["u10", "u100"], "trimmed: {found}");
    // Case and accents count: "U1" and "ü1" are other ids.
    assert_eq!(ids(&env.run(Some(&acme), SEARCH, json!({"p": "ü"})).await), ["ü1"]);
    assert_eq!(ids(&env.run(Some(&acme), SEARCH, json!({"p": "U"})).await), ["U1"]);
    assert!(ids(&env.run(Some(&acme), SEARCH, json!({"p": "z"})).await).is_empty());
    // The other tenant's u11 is not Acme's.
    assert_eq!(ids(&env.run(Some(&other), SEARCH, json!({"p": "u"})).await), ["u11"]);
    // A new user shows at once (the answer cache forgets what a write changes).
    env.run(Some(&acme), UPSERT, users(&["u1000"])).await;
    assert_eq!(ids(&env.run(Some(&acme), SEARCH, json!({"p": "u100"})).await), ["u100", "u1000"]);
}

async fn bad_prefixes_and_limits_name_their_argument(env: Env) {
    let (acme, _) = env.tenant("Acme", "CL", chrono_tz::America::Santiago).await;
    let long = "x".repeat(129);
    for (variables, argument) in [
        (json!({"p": ""}), "idPrefix"),
        (json!({"p": "   "}), "idPrefix"),
        (json!({"p": long}), "idPrefix"),
        (json!({"p": "a\u{0}b"}), "idPrefix"),
        (json!({"p": "u", "n": 0}), "first"),
        (json!({"p": "u", "n": 51}), "first"),
        (json!({"p": "u", "n": -3}), "first"),
    ] {
        let answer = env.run(Some(&acme), SEARCH, variables.clone()).await;
        let (code, arg, _) = first_error(&answer);
        assert_eq!((code.as_str(), arg.as_str()), ("BAD_USER_INPUT", argument), "{variables}: {answer}");
    }
}

on_each_backend!(finds_ids_by_their_beginning_in_order, bad_prefixes_and_limits_name_their_argument);

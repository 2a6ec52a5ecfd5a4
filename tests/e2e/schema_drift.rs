//! `schema.graphql` at the repository root is generated from the code; this fails when
//! they differ. Regenerate with `cargo run -q --bin ottstats -- export-schema > schema.graphql`.
//! That file is the SDL's snapshot (and the one source of truth for clients and the schema
//! linter): no insta copy of it is kept.

#[test]
fn schema_graphql_matches_the_code() {
    let path = crate::repo_path("schema.graphql");
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let generated = ottstats_graphql::sdl();
    if committed != generated {
        let line = committed.lines().zip(generated.lines()).position(|(a, b)| a != b).map_or(0, |i| i + 1);
        panic!(
            "schema.graphql is out of date (first difference near line {line}); regenerate it with \
             `cargo run -q --bin ottstats -- export-schema > schema.graphql`"
        );
    }
}

#[test]
fn every_type_is_documented() {
    let sdl = ottstats_graphql::sdl();
    let lines: Vec<&str> = sdl.lines().collect();
    let undocumented: Vec<&str> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| ["type ", "input ", "enum "].iter().any(|k| l.starts_with(k)))
        .filter(|(i, _)| *i == 0 || lines[i - 1].trim() != "\"\"\"")
        .map(|(_, l)| *l)
        .collect();
    assert!(undocumented.is_empty(), "undocumented types: {undocumented:?}");
}

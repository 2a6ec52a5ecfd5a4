//! `schema.graphql` at the repository root is generated from the code; this fails when
//! they differ. Regenerate with `cargo run -q -p ottstats-api -- export-schema > schema.graphql`.

#[test]
fn schema_graphql_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
    let committed = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let generated = ottstats_graphql::sdl();
    if committed != generated {
        let line = committed.lines().zip(generated.lines()).position(|(a, b)| a != b).map_or(0, |i| i + 1);
        panic!(
            "schema.graphql is out of date (first difference near line {line}); regenerate it with \
             `cargo run -q -p ottstats-api -- export-schema > schema.graphql`"
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

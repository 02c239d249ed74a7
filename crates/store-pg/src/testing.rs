//! For tests that need a real PostgreSQL: the throwaway cluster `scripts/pg.sh` starts
//! for the test command.

/// The test server's connection string (`FANLINE_TEST_PG`), or `None` to skip, with a
/// note saying so. With `FANLINE_REQUIRE_PG=1` (the test command sets it) a missing
/// server fails the test instead.
pub fn server() -> Option<String> {
    match std::env::var("FANLINE_TEST_PG") {
        Ok(s) if !s.is_empty() => Some(s),
        _ if std::env::var("FANLINE_REQUIRE_PG").as_deref() == Ok("1") => {
            panic!("FANLINE_REQUIRE_PG=1 but FANLINE_TEST_PG is not set")
        }
        _ => {
            eprintln!("skipped: no PostgreSQL (set FANLINE_TEST_PG, as scripts/test.sh does)");
            None
        }
    }
}

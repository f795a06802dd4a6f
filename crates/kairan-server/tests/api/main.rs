//! The integration suite: one test binary, one module per area. Every test starts the real
//! server on an ephemeral port through [`helpers::TestApp`] and talks HTTP like a client.
//! Set `KAIRAN_TEST_POSTGRES_URL` to run the same suite on PostgreSQL (a fresh database per
//! test, dropped afterwards).

// Test code may panic on a broken precondition: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod application_pages;
mod applications;
mod audit;
mod authorization;
mod chat;
mod devices;
mod directory;
mod directory_pages;
mod dormant;
mod files;
mod groups;
mod guests;
mod helpers;
mod identity;
mod mfa;
mod ops;
mod passkeys;
mod protection;
mod review;
mod scanner;
mod sign_in_settings;
mod slapd;
mod staff_csv;
mod transfers;

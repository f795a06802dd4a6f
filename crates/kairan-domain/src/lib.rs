//! Kairan's vocabulary and pure rules: identifiers, roles, the one authorization policy,
//! password rules, input parsing and the audit record encoding.
//!
//! Nothing here does I/O (no database, clock, network or randomness), so every rule is
//! tested by fast unit tests. The server builds an [`policy::Actor`] per request and asks
//! [`policy::check`] before any read or write; see `ARCHITECTURE.md` at the repository root.

pub mod application;
pub mod audit;
pub mod classification;
pub mod device;
pub mod device_key;
pub mod directory;
pub mod error;
pub mod fiscal;
pub mod group;
pub mod guest;
pub mod ids;
pub mod input;
pub mod mfa;
pub mod password;
pub mod policy;
pub mod role;
pub mod sign_in;
pub mod staff_csv;
pub mod webauthn;

pub use device::DeviceClass;
pub use error::{DomainError, Localized};
pub use ids::{DeptId, OrgId, UserId};
pub use role::Role;

//! # crm-tools
//!
//! Tooling built on crm-core, kept out of the library: the deterministic data
//! [`generate`]or (`crm generate`), the [`demo`] data set (`crm demo`) and the [`bench`]mark
//! (`crm bench`). It uses only crm-core's public API; the benchmark's plain-SQL baselines
//! connect to the databases it creates itself.
//!
//! ```no_run
//! use crm_tools::generate::Generator;
//!
//! // The same seed gives the same data on every machine.
//! let generator = Generator::new(7, 1_000);
//! let first = generator.contact(0);
//! assert!(!first.last_name.is_empty());
//! ```
#![warn(missing_docs)]

pub mod bench;
pub mod demo;
pub mod generate;
pub mod plant;

//! The subcommands of the `paperchart` binary.

#[cfg(feature = "fleet")]
pub mod fleet;
pub mod nlp;
pub mod read;
pub mod run;
pub mod summary;
pub mod watch;

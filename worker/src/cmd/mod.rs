//! The subcommands of the `paperchart` binary.

pub mod fleet;
pub mod nlp;
pub mod run;
pub mod summary;
pub mod watch;

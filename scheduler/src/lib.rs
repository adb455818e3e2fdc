//! The chores of `paperchart-scheduler`, one module each: lost Textract notices ([`sweep`]),
//! bulk imports into HealthLake ([`imports`]), backlog per task for autoscaling ([`backlog`])
//! and dead-letter redrive ([`redrive`]).

pub mod backlog;
pub mod imports;
pub mod queues;
pub mod redrive;
pub mod sweep;

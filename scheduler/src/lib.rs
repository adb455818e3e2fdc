//! The chores of `paperchart-scheduler`, one module each: lost Textract notices ([`sweep`]),
//! bulk imports into HealthLake ([`imports`]), backlog per task for autoscaling ([`backlog`])
//! dead-letter redrive ([`redrive`]) and replays of saved Textract answers ([`replay`]).

pub mod backlog;
pub mod imports;
pub mod queues;
pub mod redrive;
pub mod replay;
pub mod sweep;

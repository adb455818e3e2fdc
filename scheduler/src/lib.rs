//! The chores of `paperchart-scheduler`, one module each: lost Textract notices ([`sweep`]),
//! bulk imports into HealthLake ([`imports`]), backlog per task for autoscaling ([`backlog`])
//! dead-letter redrive ([`redrive`]), reasons for the letters SQS moved by itself ([`annotate`])
//! and replays of saved Textract answers ([`replay`]).

pub mod annotate;
pub mod backlog;
pub mod imports;
pub mod queues;
pub mod redrive;
pub mod replay;
pub mod sweep;

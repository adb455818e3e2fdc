//! The chores of `paperchart-scheduler`, one module each: lost Textract notices ([`sweep`]),
//! bulk imports into HealthLake ([`imports`]) and dead-letter redrive ([`redrive`]).

pub mod imports;
pub mod redrive;
pub mod sweep;

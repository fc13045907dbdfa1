//! Layer-plan validation, reports and automatic grouping (owned by the plan work stream).

pub mod cli;

//! The records: brewery sources, the sink consumed records go to, and counts by field.

pub mod api;
pub mod cache;
pub mod counts;
pub mod load;
pub mod sink;
pub mod source;
pub mod wire;

//! Domain values, parsed once at the edge.
pub mod calendar;
pub mod coded;
pub mod date;
pub mod ip_net;
pub mod mother_tongue;
pub mod national_id;
pub mod role;
pub mod text;

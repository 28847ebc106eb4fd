//! Glue between Terraform's plugin protocol (tf-provider) and our code.
pub mod boundary;
pub mod decode;
pub mod diagnostics;
pub mod logging;
pub mod number;
pub mod schema;
pub mod stop;
pub mod value;

//! socklab's kernel side: sandbox namespaces and observation of what the kernel did.
pub mod netns;
pub mod observe;

//! socklab's kernel side: sandbox namespaces and observation of what the kernel did.
mod forward;
pub mod hosts;
mod links;
pub mod netns;
mod rtnl;
pub mod observe;

/// The relay shares these across tasks: keep them `Send`/`Sync` as promised.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    const fn send<T: Send>() {}
    send_sync::<netns::Netns>();
    send_sync::<observe::Observer>();
    send::<observe::SessionObserver>();
};

//! The storage a handler declared, opened with its claims: one value holding every kind, and
//! the opener platform events and Durable Object calls share (routes open theirs with a
//! per-route opener that only holds the code of the kinds they declare).

use std::rc::Rc;

use super::durable::DurableBinding;
use super::queue::QueueBinding;
use super::{Ai, AnalyticsEngine, Cache, Kv, StorageDecl, StorageKind, Vectorize, D1, R2};
use crate::error::Error;
use crate::identity::{Claims, Verifier};
use crate::log::LogCx;

/// The storage handles of one request, event or call, as declared.
#[derive(Default)]
pub(crate) struct Declared<'r> {
    pub(crate) d1: Option<D1<'r>>,
    pub(crate) kv: Option<Kv<'r>>,
    pub(crate) queue: Option<QueueBinding<'r>>,
    pub(crate) r2: Option<R2<'r>>,
    pub(crate) cache: Option<Cache<'r>>,
    pub(crate) analytics: Option<AnalyticsEngine<'r>>,
    pub(crate) durable: Option<DurableBinding<'r>>,
    pub(crate) ai: Option<Ai<'r>>,
    pub(crate) vectorize: Option<Vectorize<'r>>,
}

/// Opens every binding `storage` declares, with `claims` as the proof. The Cache API is refused:
/// its keys live under the origin of a request being served, and events and Durable Object
/// calls have none (their macros refuse `storage(Cache)` already).
///
/// # Errors
/// The first binding that does not open.
pub(crate) fn open_declared<'r, V: Verifier>(
    env: &worker::Env,
    storage: &[StorageDecl],
    claims: &Claims<'r, V>,
    log: &Rc<LogCx>,
) -> Result<Declared<'r>, Error> {
    let mut h = Declared::default();
    for decl in storage {
        let b = decl.binding;
        match decl.kind {
            StorageKind::D1 => h.d1 = Some(D1::open(env, b, claims, log.clone())?),
            StorageKind::Kv => h.kv = Some(Kv::open(env, b, claims, log.clone())?),
            StorageKind::Queue => h.queue = Some(QueueBinding::open(env, b, claims, log.clone())?),
            StorageKind::R2 => h.r2 = Some(R2::open(env, b, claims, log.clone())?),
            StorageKind::AnalyticsEngine => h.analytics = Some(AnalyticsEngine::open(env, b, claims, log.clone())?),
            StorageKind::DurableObject => h.durable = Some(DurableBinding::open(env, b, claims, log.clone())?),
            StorageKind::Ai => h.ai = Some(Ai::open(env, b, claims, log.clone())?),
            StorageKind::Vectorize => h.vectorize = Some(Vectorize::open(env, b, claims, log.clone())?),
            StorageKind::Cache => {
                return Err(Error::internal(
                    "the Cache API is for routes: a platform event or object call has no origin",
                ))
            }
        }
    }
    Ok(h)
}

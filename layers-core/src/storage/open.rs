//! The storage a handler declared, opened with its claims: one value holding every kind
//! ([`Handles`]), the opener platform events and Durable Object calls share
//! ([`open_declared`]) and the one routes use ([`open_for_route`]), which holds only the code
//! of the kinds its route declares.

use std::rc::Rc;

use super::durable::DurableBinding;
use super::queue::QueueBinding;
use super::{Ai, AnalyticsEngine, Cache, Kv, StorageDecl, StorageKind, Vectorize, D1, R2};
use crate::dispatch::route::Route;
use crate::error::Error;
use crate::identity::{Claims, Verifier};
use crate::log::LogCx;
use worker::web_sys;

/// The storage handles of one request, event or Durable Object call, as its handler declared
/// them and dispatch opened them with its claims. Only this crate fills one; the expansion of a
/// handler takes its parameters from it (`cx.storage().d1()?`).
pub struct Handles<'r> {
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

impl std::fmt::Debug for Handles<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handles").finish_non_exhaustive()
    }
}

impl Handles<'_> {
    /// No handle at all (dispatch fills in what the handler declared).
    pub(crate) fn empty() -> Self {
        Handles {
            d1: None,
            kv: None,
            queue: None,
            r2: None,
            cache: None,
            analytics: None,
            durable: None,
            ai: None,
            vectorize: None,
        }
    }
}

fn undeclared(kind: &str) -> Error {
    Error::internal(format!("the handler asked for {kind}, which it did not declare"))
}

impl<'r> Handles<'r> {
    /// The declared D1 handle.
    ///
    /// # Errors
    /// When undeclared.
    pub fn d1(&self) -> Result<D1<'r>, Error> {
        self.d1.clone().ok_or_else(|| undeclared("D1"))
    }
    /// The declared KV handle.
    ///
    /// # Errors
    /// When undeclared.
    pub fn kv(&self) -> Result<Kv<'r>, Error> {
        self.kv.clone().ok_or_else(|| undeclared("KV"))
    }
    /// The declared queue producer, typed by the handler's parameter.
    ///
    /// # Errors
    /// When undeclared.
    pub fn queue<T>(&self) -> Result<super::Queue<'r, T>, Error> {
        self.queue.clone().map(QueueBinding::typed).ok_or_else(|| undeclared("Queue"))
    }
    /// The declared R2 bucket.
    ///
    /// # Errors
    /// When undeclared.
    pub fn r2(&self) -> Result<R2<'r>, Error> {
        self.r2.clone().ok_or_else(|| undeclared("R2"))
    }
    /// The declared cache.
    ///
    /// # Errors
    /// When undeclared.
    pub fn cache(&self) -> Result<Cache<'r>, Error> {
        self.cache.clone().ok_or_else(|| undeclared("Cache"))
    }
    /// The declared Analytics Engine dataset.
    ///
    /// # Errors
    /// When undeclared.
    pub fn analytics(&self) -> Result<AnalyticsEngine<'r>, Error> {
        self.analytics.clone().ok_or_else(|| undeclared("AnalyticsEngine"))
    }
    /// The declared Durable Object namespace, typed by the handler's parameter.
    ///
    /// # Errors
    /// When undeclared.
    pub fn durable<C: crate::durable_object::DurableClass>(&self) -> Result<super::DurableObject<'r, C>, Error> {
        self.durable.clone().map(DurableBinding::typed).ok_or_else(|| undeclared("DurableObject"))
    }
    /// The declared Workers AI binding.
    ///
    /// # Errors
    /// When undeclared.
    pub fn ai(&self) -> Result<Ai<'r>, Error> {
        self.ai.clone().ok_or_else(|| undeclared("Ai"))
    }
    /// The declared Vectorize index.
    ///
    /// # Errors
    /// When undeclared.
    pub fn vectorize(&self) -> Result<Vectorize<'r>, Error> {
        self.vectorize.clone().ok_or_else(|| undeclared("Vectorize"))
    }
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
) -> Result<Handles<'r>, Error> {
    let mut h = Handles::empty();
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

/// Whether `storage` declares a binding of `kind` (evaluated at compile time per route, so a
/// route's storage opener only holds the code of the storage kinds it declares).
const fn declares(storage: &[StorageDecl], kind: StorageKind) -> bool {
    let mut i = 0;
    while i < storage.len() {
        if storage[i].kind as u8 == kind as u8 {
            return true;
        }
        i += 1;
    }
    false
}

/// Opens every binding route `H` declares, with the request's claims as the proof: what
/// [`open_declared`] does for events, plus the Cache API (keyed under the request's origin).
/// Each arm is compiled only for routes that declare that kind (`declares` is const), so a
/// route carries only the code of its own storage kinds.
///
/// # Errors
/// The first binding that does not open.
pub(crate) fn open_for_route<'r, H: Route>(
    env: &worker::Env,
    req: &web_sys::Request,
    claims: &Claims<'r, H::Identity>,
    log: &Rc<LogCx>,
) -> Result<Handles<'r>, Error> {
    let mut h = Handles::empty();
    for decl in H::META.storage {
        match decl.kind {
            StorageKind::D1 if const { declares(H::META.storage, StorageKind::D1) } => {
                h.d1 = Some(D1::open(env, decl.binding, claims, log.clone())?);
            }
            StorageKind::Kv if const { declares(H::META.storage, StorageKind::Kv) } => {
                h.kv = Some(Kv::open(env, decl.binding, claims, log.clone())?);
            }
            StorageKind::Queue if const { declares(H::META.storage, StorageKind::Queue) } => {
                h.queue = Some(QueueBinding::open(env, decl.binding, claims, log.clone())?);
            }
            StorageKind::R2 if const { declares(H::META.storage, StorageKind::R2) } => {
                h.r2 = Some(R2::open(env, decl.binding, claims, log.clone())?);
            }
            StorageKind::Cache if const { declares(H::META.storage, StorageKind::Cache) } => {
                let origin =
                    worker::Url::parse(&req.url()).map(|u| u.origin().ascii_serialization()).unwrap_or_default();
                h.cache = Some(Cache::open(decl.binding, &origin, claims, log.clone())?);
            }
            StorageKind::AnalyticsEngine if const { declares(H::META.storage, StorageKind::AnalyticsEngine) } => {
                h.analytics = Some(AnalyticsEngine::open(env, decl.binding, claims, log.clone())?);
            }
            StorageKind::DurableObject if const { declares(H::META.storage, StorageKind::DurableObject) } => {
                h.durable = Some(DurableBinding::open(env, decl.binding, claims, log.clone())?);
            }
            StorageKind::Ai if const { declares(H::META.storage, StorageKind::Ai) } => {
                h.ai = Some(Ai::open(env, decl.binding, claims, log.clone())?);
            }
            StorageKind::Vectorize if const { declares(H::META.storage, StorageKind::Vectorize) } => {
                h.vectorize = Some(Vectorize::open(env, decl.binding, claims, log.clone())?);
            }
            // Unreachable: `decl` is one of `H::META.storage`, whose kinds the guards above admit.
            _ => {}
        }
    }
    Ok(h)
}

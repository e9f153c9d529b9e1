//! The storage a handler declared, opened with its claims: one value holding every kind
//! ([`Handles`]), the opener platform events and Durable Object calls share
//! ([`open_declared`]) and the one routes use ([`open_for_route`]), which holds only the code
//! of the kinds its route declares.

use std::rc::Rc;

use super::durable::DurableBinding;
use super::queue::QueueBinding;
use super::{Ai, AnalyticsEngine, Assets, Cache, Kv, StorageDecl, StorageKind, Vectorize, D1, R2};
use crate::dispatch::route::Route;
use crate::error::Error;
use crate::identity::{Claims, Verifier};
use crate::log::LogCx;
use worker::web_sys;

/// Where a declared binding is opened: the Worker's `Env` and, for a route, the origin of the
/// request being served (the Cache API keys its entries under it; platform events and Durable
/// Object calls have none).
pub(crate) struct Site<'a> {
    pub(crate) env: &'a worker::Env,
    pub(crate) origin: Option<&'a str>,
}

/// A storage kind's handle as dispatch opens it: each handle file implements it, and
/// [`handles!`] lists the kinds. Only with a handler's claims in hand.
pub(crate) trait Opens<'r>: Sized {
    /// The kind this handle opens.
    const KIND: StorageKind;

    /// Opens `binding` at `site`, with `proof` as the proof of identity.
    fn open<V: Verifier>(
        site: &Site<'_>,
        binding: &'static str,
        proof: &Claims<'r, V>,
        log: Rc<LogCx>,
    ) -> Result<Self, Error>;
}

fn undeclared(kind: &str) -> Error {
    Error::internal(format!("the handler asked for {kind}, which it did not declare"))
}

/// The storage kinds dispatch opens, one row each — `field: StoredHandle` (the field is also
/// the kind's accessor, `layers_spec`'s `accessor`; `typed` kinds have their generic accessor
/// written out below). It generates [`Handles`], the accessors of untyped kinds, and the
/// opening of one declaration, for events and for routes. A kind missing here is a compile
/// error (see `OPENED`).
macro_rules! handles {
    ($($field:ident: $Stored:ident $([$typed:ident])?),* $(,)?) => {
        /// The storage handles of one request, event or Durable Object call, as its handler
        /// declared them and dispatch opened them with its claims. Only this crate fills one;
        /// the expansion of a handler takes its parameters from it (`cx.storage().d1()?`).
        pub struct Handles<'r> {
            $(pub(crate) $field: Option<$Stored<'r>>,)*
        }

        /// Every kind [`Handles`] holds, in the order of its fields.
        const OPENED: &[StorageKind] = &[$(<$Stored<'static> as Opens<'static>>::KIND),*];

        /// The field (and accessor) of each kind, for the test that they are `layers_spec`'s.
        #[cfg(test)]
        const FIELDS: &[(&str, StorageKind)] = &[$((stringify!($field), <$Stored<'static> as Opens<'static>>::KIND)),*];

        impl<'r> Handles<'r> {
            /// No handle at all (dispatch fills in what the handler declared).
            pub(crate) fn empty() -> Self {
                Handles { $($field: None,)* }
            }

            /// Opens `decl` into its field.
            fn open_decl<V: Verifier>(
                &mut self,
                decl: &StorageDecl,
                site: &Site<'_>,
                claims: &Claims<'r, V>,
                log: &Rc<LogCx>,
            ) -> Result<(), Error> {
                $(
                    if decl.kind as u8 == <$Stored<'static> as Opens<'static>>::KIND as u8 {
                        self.$field = Some(<$Stored<'r> as Opens<'r>>::open(site, decl.binding, claims, log.clone())?);
                        return Ok(());
                    }
                )*
                Ok(())
            }

            /// [`Handles::open_decl`] holding only the code of the kinds route `H` declares:
            /// every other kind's branch is `const`-false for `H`, and compiled out.
            fn open_route_decl<H: Route>(
                &mut self,
                decl: &StorageDecl,
                site: &Site<'_>,
                claims: &Claims<'r, H::Identity>,
                log: &Rc<LogCx>,
            ) -> Result<(), Error> {
                $(
                    if const { declares(H::META.storage, <$Stored<'static> as Opens<'static>>::KIND) }
                        && decl.kind as u8 == <$Stored<'static> as Opens<'static>>::KIND as u8
                    {
                        self.$field = Some(<$Stored<'r> as Opens<'r>>::open(site, decl.binding, claims, log.clone())?);
                        return Ok(());
                    }
                )*
                Ok(())
            }

            $(handles!(@accessor $field $Stored $($typed)?);)*
        }
    };
    (@accessor $field:ident $Stored:ident typed) => {};
    (@accessor $field:ident $Stored:ident) => {
        #[doc = concat!("The declared `", stringify!($Stored), "` handle.")]
        ///
        /// # Errors
        /// When undeclared.
        pub fn $field(&self) -> Result<$Stored<'r>, Error> {
            self.$field.clone().ok_or_else(|| undeclared(stringify!($Stored)))
        }
    };
}

handles! {
    d1: D1,
    kv: Kv,
    queue: QueueBinding [typed],
    r2: R2,
    cache: Cache,
    analytics: AnalyticsEngine,
    durable: DurableBinding [typed],
    ai: Ai,
    vectorize: Vectorize,
    assets: Assets,
}

// Every storage kind is opened, once.
const _: () = {
    assert!(OPENED.len() == StorageKind::COUNT, "a storage kind is missing from `handles!`");
    let mut i = 0;
    while i < OPENED.len() {
        let mut j = i + 1;
        while j < OPENED.len() {
            assert!(OPENED[i] as u8 != OPENED[j] as u8, "a storage kind is listed twice in `handles!`");
            j += 1;
        }
        i += 1;
    }
};

impl std::fmt::Debug for Handles<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handles").finish_non_exhaustive()
    }
}

impl<'r> Handles<'r> {
    /// The declared queue producer, typed by the handler's parameter.
    ///
    /// # Errors
    /// When undeclared.
    pub fn queue<T>(&self) -> Result<super::Queue<'r, T>, Error> {
        self.queue.clone().map(QueueBinding::typed).ok_or_else(|| undeclared("Queue"))
    }
    /// The declared Durable Object namespace, typed by the handler's parameter.
    ///
    /// # Errors
    /// When undeclared.
    pub fn durable<C: crate::durable_object::DurableClass>(&self) -> Result<super::DurableObject<'r, C>, Error> {
        self.durable.clone().map(DurableBinding::typed).ok_or_else(|| undeclared("DurableObject"))
    }
}

/// Opens every binding `storage` declares, with `claims` as the proof. The Cache API does not
/// open: its keys live under the origin of a request being served, and events and Durable
/// Object calls have none (their macros refuse `storage(Cache)` already).
///
/// # Errors
/// The first binding that does not open.
pub(crate) fn open_declared<'r, V: Verifier>(
    env: &worker::Env,
    storage: &[StorageDecl],
    claims: &Claims<'r, V>,
    log: &Rc<LogCx>,
) -> Result<Handles<'r>, Error> {
    let site = Site { env, origin: None };
    let mut h = Handles::empty();
    for decl in storage {
        h.open_decl(decl, &site, claims, log)?;
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
/// [`open_declared`] does for events, plus the Cache API (keyed under the request's origin) and
/// static assets (fetched under it).
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
    let origin = if const { declares(H::META.storage, StorageKind::Cache) || declares(H::META.storage, StorageKind::Assets) }
    {
        Some(worker::Url::parse(&req.url()).map(|u| u.origin().ascii_serialization()).unwrap_or_default())
    } else {
        None
    };
    let site = Site { env, origin: origin.as_deref() };
    let mut h = Handles::empty();
    for decl in H::META.storage {
        h.open_route_decl::<H>(decl, &site, claims, log)?;
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::FIELDS;
    use layers_spec::storage::StorageKind;

    /// Each kind's field in `Handles` is the accessor the macros' expansion calls.
    #[test]
    fn each_field_is_the_kinds_accessor() {
        for (field, kind) in FIELDS {
            assert_eq!(*field, kind.spec().accessor, "{kind:?}");
        }
        assert_eq!(FIELDS.len(), StorageKind::COUNT);
    }
}

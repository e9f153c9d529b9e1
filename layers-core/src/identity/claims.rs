use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use super::Verifier;

/// Proof that verifier `V` accepted the current request, carrying what it proved.
///
/// * Only the framework makes one, right after `V::verify` succeeded: there is no public
///   constructor, and no `Default`, `Clone`, `Deserialize` or `From`.
/// * `'r` is the request's scope. It is a fresh lifetime for every request, so claims (and
///   the storage handles opened with them) cannot be kept in a `static`, a `thread_local!`
///   or anything else `'static`, and cannot outlive the request.
/// * `Claims<'_, Public>` and `Claims<'_, ApiKey>` are different types; no conversion exists.
///
/// Read the verified data through `Deref`:
/// ```no_run
/// # use layers_core::prelude::*;
/// #[route(GET "/hello", identity = ApiKey)]
/// async fn hello(who: Claims<'_, ApiKey>) -> Result<Response> {
///     Ok(Response::ok(format!("hello, {}", who.label))?)
/// }
/// # fn main() {}
/// ```
///
/// ```compile_fail
/// // No way to conjure claims:
/// let c: layers_core::Claims<'static, layers_core::identity::Public> = Default::default();
/// ```
pub struct Claims<'r, V: Verifier> {
    data: V::Claims,
    // Invariant in 'r: claims of one request never pass for claims of a longer scope.
    scope: PhantomData<fn(&'r ()) -> &'r ()>,
}

impl<'r, V: Verifier> Claims<'r, V> {
    pub(crate) fn new(data: V::Claims) -> Self {
        Claims { data, scope: PhantomData }
    }

    /// The name of the verifier that made these claims.
    #[must_use]
    pub fn verifier(&self) -> &'static str {
        V::NAME
    }

    /// The verified data (also reachable through `Deref`).
    #[must_use]
    pub fn data(&self) -> &V::Claims {
        &self.data
    }
}

impl<V: Verifier> Deref for Claims<'_, V> {
    type Target = V::Claims;
    fn deref(&self) -> &V::Claims {
        &self.data
    }
}

impl<V: Verifier> fmt::Debug for Claims<'_, V>
where
    V::Claims: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claims").field("verifier", &V::NAME).field("data", &self.data).finish()
    }
}

mod sealed {
    pub trait Sealed {}
}

/// Hands the route's claims to the handler parameter that asks for them.
///
/// Implemented only for `Claims<'r, V>` itself: a handler whose `Claims` parameter names a
/// different verifier than its route's `identity = …` fails here, at that parameter.
#[diagnostic::on_unimplemented(
    message = "this handler takes `{Self}`, but its route declares `identity = {V}`",
    label = "expected `Claims<'_, {V}>` here",
    note = "the claims a handler receives are made by the route's verifier and by nothing else; change the parameter to `Claims<'_, {V}>` or change `identity = …` in the attribute"
)]
pub trait ClaimsFor<'r, V: Verifier>: sealed::Sealed + Sized {
    /// Identity conversion.
    fn from_claims(claims: Claims<'r, V>) -> Self;
}

impl<V: Verifier> sealed::Sealed for Claims<'_, V> {}

impl<'r, V: Verifier> ClaimsFor<'r, V> for Claims<'r, V> {
    fn from_claims(claims: Claims<'r, V>) -> Self {
        claims
    }
}

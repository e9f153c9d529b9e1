use super::{Deny, Security, Verifier, VerifyCx};

/// The explicit "anyone may call this" identity. Routes have no identity by default;
/// a public route says `identity = Public` out loud.
///
/// `Claims<'_, Public>` proves nothing about the caller, and cannot become the claims
/// of any other verifier.
#[derive(Debug, Clone, Copy)]
pub struct Public;

impl Verifier for Public {
    type Claims = ();
    const NAME: &'static str = "Public";
    async fn verify(_cx: &VerifyCx<'_>) -> Result<(), Deny> {
        Ok(())
    }
    fn openapi_security() -> Security {
        Security::anonymous()
    }
}

// A verifier of the user's own: its claims type reaches the handler through `Deref`.
use layers_core::identity::{constant_time_eq, VerifyCx};
use layers_core::prelude::*;

struct HealthProbe;

struct Probe {
    region: String,
}

impl Verifier for HealthProbe {
    type Claims = Probe;
    const NAME: &'static str = "HealthProbe";
    async fn verify(cx: &VerifyCx<'_>) -> std::result::Result<Probe, Deny> {
        let sent = cx.header("x-probe").ok_or_else(|| Deny::missing("no x-probe header"))?;
        let want = cx.secret("PROBE_SECRET").ok_or_else(|| Deny::unavailable("PROBE_SECRET unset"))?;
        if !constant_time_eq(sent.as_bytes(), want.as_bytes()) {
            return Err(Deny::invalid("x-probe mismatch"));
        }
        Ok(Probe { region: cx.header("x-region").unwrap_or("?").to_owned() })
    }
}

#[route(GET "/health", identity = HealthProbe, storage(KV))]
async fn health(probe: Claims<'_, HealthProbe>, kv: Kv<'_>) -> Result<Response> {
    kv.put("last-probe", &probe.region).await?;
    Ok(Response::ok(format!("ok from {}", probe.region))?)
}

app! { wrangler: "wrangler.toml", routes: [health] }

fn main() {}

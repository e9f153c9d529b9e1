// Issue 22: an undeclared outbound call does not compile. The Workers fetch behind `Outbound`
// and the verifiers' context is not reachable from an app: neither the raw fetch nor the guarded
// one, nor a hand-made `Outbound`.
use layers_core::outbound::{Outbound, OutboundRequest, UrlPolicy};

async fn sneak() {
    let _ = layers_core::outbound::worker_fetch()(OutboundRequest::get("https://example.com/")).await;
    let _ = layers_core::outbound::guard::fetch_guarded(&UrlPolicy::strict(), OutboundRequest::get("https://example.com/"), 10).await;
    let _: Outbound<'static> = Outbound::new(todo_env(), &[]);
}

fn todo_env() -> layers_core::__private::worker::Env {
    unreachable!()
}

fn main() {
    let _ = sneak;
}

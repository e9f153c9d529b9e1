// A producer sending the type its queue's consumer decodes compiles; so does one sending to a
// queue another Worker consumes (not checked here: its consumer is not in this app).
use layers_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Job {
    id: u32,
}

#[derive(Serialize)]
struct AuditEvent {
    what: String,
}

#[route(POST "/jobs", identity = ApiKey, storage(Queue = "JOBS"))]
async fn enqueue(_key: Claims<'_, ApiKey>, q: Queue<'_, Job>) -> Result<Response> {
    q.send(&Job { id: 7 }).await?;
    Ok(Response::empty()?.with_status(202))
}

#[route(POST "/audit", identity = ApiKey, storage(Queue = "AUDIT"))]
async fn audit(_key: Claims<'_, ApiKey>, q: Queue<'_, AuditEvent>) -> Result<Response> {
    q.send(&AuditEvent { what: "login".into() }).await?;
    Ok(Response::empty()?.with_status(202))
}

#[route(GET "/", identity = Public)]
async fn home(_who: Claims<'_, Public>) -> Result<Response> {
    Ok(Response::ok("home")?)
}

#[queue("jobs")]
async fn jobs(batch: Batch<'_, Job>, _who: Claims<'_, System>) {
    for m in &batch {
        let _ = (m.body().id, m.attempts());
        m.ack();
    }
}

app! { wrangler: "queue-wrangler.toml", routes: [enqueue, audit, home], queues: [jobs] }

fn main() {}

// The Cache API keys entries under the origin of the request being served; a cron or queue
// handler serves no request, so it cannot declare `Cache`.
use layers_core::prelude::*;

#[scheduled("0 2 * * SUN", storage(Cache))]
async fn nightly(_who: Claims<'_, System>) {}

fn main() {}

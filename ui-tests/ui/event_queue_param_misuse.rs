// Event handlers run as `System`, take no request, and only declared storage.
use layers_core::prelude::*;

#[scheduled("0 2 * * SUN", identity = ApiKey)]
async fn with_identity(_who: Claims<'_, System>) {}

#[scheduled("0 2 * * SUN")]
async fn with_request(_req: Request, _who: Claims<'_, System>) {}

#[scheduled("0 2 * * SUN")]
async fn undeclared(_who: Claims<'_, System>, _db: D1<'_>) {}

#[scheduled("0 2 * * SUN")]
async fn no_claims(_db: Vars<'_>) {}

#[queue("Jobs_Queue")]
async fn bad_name(_batch: Batch<'_, u32>, _who: Claims<'_, System>) {}

#[queue("jobs")]
async fn wrong_claims(_batch: Batch<'_, u32>, _who: Claims<'_, Public>) {}

fn main() {}

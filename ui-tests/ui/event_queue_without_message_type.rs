// A queue handler says what its messages are: `Batch<'_, T>` with `T: Deserialize`.
use layers_core::prelude::*;

#[queue("jobs")]
async fn no_batch(_who: Claims<'_, System>) -> Result<()> {
    Ok(())
}

#[queue("jobs")]
async fn untyped(_batch: Batch<'_>, _who: Claims<'_, System>) {}

struct NotDeserialize;

#[queue("jobs")]
async fn not_deserialize(_batch: Batch<'_, NotDeserialize>, _who: Claims<'_, System>) {}

fn main() {}

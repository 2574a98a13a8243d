//! The serialised apply step of placement, as Nomad's plan applier: concurrent creates queue
//! here, and each batch is admitted and placed in one write transaction with one durable commit.
//! Every request runs inside its own savepoint, so a refusal undoes only its own writes, and each
//! sees the requests before it (their ports, their memory), so nothing is double-booked.

use super::batch::{stopped, Batches};
use super::create::{admit_and_place, WantedPort};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::NewContainer;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

type Placed = ApiResult<(NewContainer, (u16, u16))>;

struct Job {
    user_id: String,
    row: NewContainer,
    wanted: Vec<WantedPort>,
    reply: oneshot::Sender<Placed>,
}

#[derive(Clone, Default)]
pub struct Placer {
    jobs: Batches<Job>,
}

impl Placer {
    /// Admits and places one request; answers when its batch has committed.
    pub(super) async fn place(
        &self,
        user_id: &str,
        row: NewContainer,
        wanted: Vec<WantedPort>,
    ) -> Placed {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            user_id: user_id.to_string(),
            row,
            wanted,
            reply,
        };
        self.jobs.send(job).await?;
        answer.await.map_err(|_| stopped())?
    }

    /// Runs the apply loop until `shutdown`.
    pub fn spawn(&self, state: AppState, shutdown: CancellationToken) {
        self.jobs.spawn(shutdown, move |batch| {
            let state = state.clone();
            async move { apply(&state, batch).await }
        });
    }
}

async fn apply(state: &AppState, batch: Vec<Job>) {
    let mut tx = match state.store.begin_placement().await {
        Ok(tx) => tx,
        Err(e) => {
            let msg = e.to_string();
            for job in batch {
                let _ = job.reply.send(Err(ApiError::internal(&msg)));
            }
            return;
        }
    };
    let mut answers = Vec::with_capacity(batch.len());
    for job in batch {
        let result = place_one(state, &mut tx, &job).await;
        answers.push((job.reply, result));
    }
    // Nobody hears of a placement before it is durable.
    if let Err(e) = tx.commit().await {
        let msg = e.to_string();
        for (reply, _) in answers {
            let _ = reply.send(Err(ApiError::internal(&msg)));
        }
        return;
    }
    for (reply, result) in answers {
        let _ = reply.send(result);
    }
}

async fn place_one(state: &AppState, tx: &mut crate::store::Placement, job: &Job) -> Placed {
    tx.mark().await?;
    match admit_and_place(state, tx, &job.user_id, job.row.clone(), &job.wanted).await {
        Ok(placed) => {
            tx.keep().await?;
            Ok(placed)
        }
        Err(e) => {
            tx.undo().await?;
            Err(e)
        }
    }
}

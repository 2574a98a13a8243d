//! The serialised apply step of placement, as Nomad's plan applier: concurrent creates queue
//! here, and each batch is admitted and placed in one write transaction with one durable commit.
//! Every request runs inside its own savepoint, so a refusal undoes only its own writes, and each
//! sees the requests before it (their ports, their memory), so nothing is double-booked.

use super::batch::{stopped, Batches};
use super::create::{admit_and_place, FleetView, WantedPort};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{NewContainer, Placement};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

type Placed = ApiResult<(NewContainer, (u16, u16))>;

struct Job {
    user_id: String,
    row: NewContainer,
    /// False when the name was made up for the renter (and may be made longer if taken).
    name_given: bool,
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
        name_given: bool,
        wanted: Vec<WantedPort>,
    ) -> Placed {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            user_id: user_id.to_string(),
            row,
            name_given,
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
    let placed = state
        .store
        .place_batch(|tx| {
            let mut fleet = FleetView::default();
            batch
                .iter()
                .map(|job| place_one(state, tx, &mut fleet, job))
                .collect::<Vec<_>>()
        })
        .await;
    // Nobody hears of a placement before it is durable.
    match placed {
        Ok(results) => {
            for (job, result) in batch.into_iter().zip(results) {
                let _ = job.reply.send(result);
            }
        }
        Err(e) => {
            let msg = e.to_string();
            for job in batch {
                let _ = job.reply.send(Err(ApiError::internal(&msg)));
            }
        }
    }
}

fn place_one(state: &AppState, tx: &Placement, fleet: &mut FleetView, job: &Job) -> Placed {
    tx.mark()?;
    match admit_and_place(
        state,
        tx,
        fleet,
        &job.user_id,
        job.row.clone(),
        job.name_given,
        &job.wanted,
    ) {
        Ok(placed) => {
            tx.keep()?;
            Ok(placed)
        }
        Err(e) => {
            tx.undo()?;
            Err(e)
        }
    }
}

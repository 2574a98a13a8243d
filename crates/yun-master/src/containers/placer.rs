//! The serialised apply step of placement, as Nomad's plan applier: concurrent creates queue
//! here, and each batch is admitted and placed in one write transaction with one durable commit.
//! Every request runs inside its own savepoint, so a refusal undoes only its own writes, and each
//! sees the requests before it (their ports, their memory), so nothing is double-booked.
//! The same transaction records the outcomes of earlier creates that gathered meanwhile
//! (`outcomes.rs`): one commit, not two, for each round of the create path.

use super::batch::{stopped, Batches};
use super::create::{admit_and_place, FleetView, WantedPort};
use super::outcomes::{Outcome, Outcomes};
use super::{ContainerError, ContainerResult};
use crate::state::AppState;
use crate::store::{NewContainer, Placement};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

type Placed = ContainerResult<(NewContainer, (u16, u16))>;

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

    /// Runs the apply loop until `shutdown`; each round also records the outcomes that
    /// `outcomes` gathered, in the same transaction.
    pub fn spawn(&self, state: AppState, outcomes: &Outcomes, shutdown: CancellationToken) {
        self.jobs
            .spawn_with(&outcomes.jobs, shutdown, move |batch, outcomes| {
                let state = state.clone();
                async move { apply(&state, batch, outcomes).await }
            });
    }
}

async fn apply(state: &AppState, batch: Vec<Job>, outcomes: Vec<Outcome>) {
    let updates: Vec<_> = outcomes
        .iter()
        .map(|o| (o.id.clone(), o.state, o.exit_code))
        .collect();
    let placed = state
        .store
        .place_batch(|tx| {
            tx.set_actual_states(&updates)?;
            let mut fleet = FleetView::default();
            Ok(batch
                .iter()
                .map(|job| place_one(state, tx, &mut fleet, job))
                .collect::<Vec<_>>())
        })
        .await;
    // Nobody hears of a placement or an outcome before it is durable.
    match placed {
        Ok(results) => {
            for (job, result) in batch.into_iter().zip(results) {
                let _ = job.reply.send(result);
            }
            for o in outcomes {
                let _ = o.reply.send(Ok(()));
            }
        }
        Err(e) => {
            let msg = e.to_string();
            for job in batch {
                let _ = job.reply.send(Err(ContainerError::Failed(msg.clone())));
            }
            for o in outcomes {
                let _ = o.reply.send(Err(ContainerError::Failed(msg.clone())));
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

//! The serialised apply step of placement, as Nomad's plan applier: concurrent creates queue
//! here, and each batch is admitted and placed in one write transaction with one durable commit.
//! Every request runs inside its own savepoint, so a refusal undoes only its own writes, and each
//! sees the requests before it (their ports, their memory), so nothing is double-booked.
//! The same transaction records the outcomes of earlier creates that gathered meanwhile
//! (`outcomes.rs`): one commit, not two, for each round of the create path.

use super::batch::{stopped, Batches};
use super::create::{policy, snapshots};
use super::outcomes::{Outcome, Outcomes};
use super::Containers;
use super::{ContainerError, ContainerResult};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use yun_store::{NotPlaced, PlaceRequest, Placed};

struct Job {
    request: PlaceRequest,
    reply: oneshot::Sender<ContainerResult<Placed>>,
}

#[derive(Clone, Default)]
pub struct Placer {
    jobs: Batches<Job>,
}

impl Placer {
    /// Admits and places one request; answers when its batch has committed.
    pub(super) async fn place(&self, request: PlaceRequest) -> ContainerResult<Placed> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job { request, reply }).await?;
        answer.await.map_err(|_| stopped())?
    }

    /// Runs the apply loop until `shutdown`; each round also records the outcomes that
    /// `outcomes` gathered, in the same transaction.
    pub fn spawn(&self, containers: Containers, outcomes: &Outcomes, shutdown: CancellationToken) {
        self.jobs
            .spawn_with(&outcomes.jobs, shutdown, move |batch, outcomes| {
                let containers = containers.clone();
                async move { apply(&containers, batch, outcomes).await }
            });
    }
}

async fn apply(containers: &Containers, batch: Vec<Job>, outcomes: Vec<Outcome>) {
    let updates: Vec<_> = outcomes
        .iter()
        .map(|o| (o.id.clone(), o.state, o.exit_code))
        .collect();
    let (requests, replies): (Vec<_>, Vec<_>) =
        batch.into_iter().map(|j| (j.request, j.reply)).unzip();
    // The fleet as it is when the batch runs, not when its requests queued.
    let nodes = if requests.is_empty() {
        Vec::new()
    } else {
        snapshots(containers)
    };
    let placed = containers
        .store
        .place(&requests, &updates, nodes, &policy(containers))
        .await;
    // Nobody hears of a placement or an outcome before it is durable.
    match placed {
        Ok(results) => {
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result.map_err(|e| match e {
                    NotPlaced::Refused(r) => r.into(),
                    NotPlaced::Store(e) => e.into(),
                }));
            }
            for o in outcomes {
                let _ = o.reply.send(Ok(()));
            }
        }
        Err(e) => {
            let msg = e.to_string();
            for reply in replies {
                let _ = reply.send(Err(ContainerError::Failed(msg.clone())));
            }
            for o in outcomes {
                let _ = o.reply.send(Err(ContainerError::Failed(msg.clone())));
            }
        }
    }
}

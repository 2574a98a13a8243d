//! The create path's last step, batched: outcomes of concurrent creates are recorded by the
//! placer's writer loop (`placer.rs`) in the transaction of its next round, and each create
//! answers only after its outcome is on disk.

use super::batch::{stopped, Batches};
use super::ContainerResult;
use tokio::sync::oneshot;
use yun_core::ContainerState;

pub(super) struct Outcome {
    pub(super) id: String,
    pub(super) state: ContainerState,
    pub(super) exit_code: Option<i64>,
    pub(super) reply: oneshot::Sender<ContainerResult<()>>,
}

#[derive(Clone, Default)]
pub struct Outcomes {
    pub(super) jobs: Batches<Outcome>,
}

impl Outcomes {
    /// Records a container's state; answers once it is committed.
    pub async fn record(
        &self,
        id: &str,
        state: ContainerState,
        exit_code: Option<i64>,
    ) -> ContainerResult<()> {
        let (reply, answer) = oneshot::channel();
        let outcome = Outcome {
            id: id.to_string(),
            state,
            exit_code,
            reply,
        };
        self.jobs.send(outcome).await?;
        answer.await.map_err(|_| stopped())?
    }
}

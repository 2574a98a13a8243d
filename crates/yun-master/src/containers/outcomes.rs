//! The create path's last step, batched: outcomes of concurrent creates are recorded in one
//! transaction with one durable commit, and each create answers only after its outcome is on
//! disk.

use super::batch::{stopped, Batches};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use yun_core::ContainerState;

struct Outcome {
    id: String,
    state: ContainerState,
    exit_code: Option<i64>,
    reply: oneshot::Sender<ApiResult<()>>,
}

#[derive(Clone, Default)]
pub struct Outcomes {
    jobs: Batches<Outcome>,
}

impl Outcomes {
    /// Records a container's state; answers once it is committed.
    pub async fn record(
        &self,
        id: &str,
        state: ContainerState,
        exit_code: Option<i64>,
    ) -> ApiResult<()> {
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

    /// Runs the writer until `shutdown`.
    pub fn spawn(&self, state: AppState, shutdown: CancellationToken) {
        self.jobs.spawn(shutdown, move |batch| {
            let state = state.clone();
            async move { write(&state, batch).await }
        });
    }
}

async fn write(state: &AppState, batch: Vec<Outcome>) {
    let updates: Vec<_> = batch
        .iter()
        .map(|o| (o.id.clone(), o.state, o.exit_code))
        .collect();
    let result = state.store.set_actual_states(&updates).await;
    for o in batch {
        let r = match &result {
            Ok(()) => Ok(()),
            Err(e) => Err(ApiError::internal(e)),
        };
        let _ = o.reply.send(r);
    }
}

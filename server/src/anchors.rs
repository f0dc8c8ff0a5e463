//! `POST /v1/anchors`: signed time anchors for enrolled devices ([`hadir_core::anchor`]).
//!
//! The request is signed like every device request (the anchor is bound to the
//! signing device); its body is the phone's boot id and boot-elapsed reading as it
//! sends. The answer pairs them with the server's instant under the server's HMAC. The
//! observation (server instant, elapsed) also goes into the record of that device's boot
//! (one write job), so a later check-in that contradicts it is flagged.

use axum::Json;
use axum::extract::State;
use hadir_core::anchor::{AnchorRequest, SignedAnchor};
use hadir_core::clock::BootObservation;

use crate::AppState;
use crate::auth::{SMALL_LIMIT, Signed};
use crate::error::AppError;
use crate::handlers::parse_json;

/// `POST /v1/anchors`.
pub async fn issue(
    State(state): State<AppState>,
    signed: Signed<SMALL_LIMIT>,
) -> Result<Json<SignedAnchor>, AppError> {
    let st = state.clone();
    Ok(Json(
        tokio::task::spawn_blocking(move || {
            st.issue_anchor(&signed.device.device_id, &signed.body)
        })
        .await??,
    ))
}

impl AppState {
    /// The blocking part of `POST /v1/anchors`.
    pub fn issue_anchor(&self, device_id: &str, body: &[u8]) -> Result<SignedAnchor, AppError> {
        let request: AnchorRequest = parse_json(body).map_err(AppError::BadJson)?;
        request.check().map_err(AppError::BadJson)?;
        let now_ms = self.now_ms();
        let consistent = self.storage().observe_anchor(
            device_id,
            &request.boot_id,
            BootObservation {
                server_time_ms: now_ms,
                boot_elapsed_ms: request.boot_elapsed_ms,
            },
        )?;
        if !consistent {
            tracing::warn!(
                device = %device_id,
                "anchor request contradicts the record of this boot; check-ins citing it are flagged"
            );
        }
        Ok(self
            .anchor_key()
            .sign(device_id, &request.boot_id, request.boot_elapsed_ms, now_ms))
    }
}

//! Pacing of mutating calls for one target: unlimited until the service
//! throttles, then an additive-increase / multiplicative-decrease rate that
//! settles just under the service's limit instead of bursting and backing off.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// How much the rate drops on a throttle. Gentle, because the service's
/// limit is steady: a deep cut wastes capacity for many seconds.
const DECREASE: f64 = 0.85;
const MIN_RATE: f64 = 0.5;

#[derive(Debug)]
pub struct Pace {
    state: Mutex<PaceState>,
}

#[derive(Debug)]
struct PaceState {
    /// Calls per second, once the service has pushed back.
    rate: Option<f64>,
    next_slot: Instant,
    /// Start times of recent calls, to measure the rate that got throttled.
    recent: VecDeque<Instant>,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            state: Mutex::new(PaceState {
                rate: None,
                next_slot: Instant::now(),
                recent: VecDeque::new(),
            }),
        }
    }
}

impl Pace {
    /// Wait for this call's turn.
    pub async fn turn(&self) {
        let wait_until = {
            let mut s = self.state.lock().await;
            let now = Instant::now();
            s.recent.push_back(now);
            while s
                .recent
                .front()
                .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(1))
            {
                s.recent.pop_front();
            }
            match s.rate {
                None => now,
                Some(rate) => {
                    let slot = s.next_slot.max(now);
                    s.next_slot = slot + Duration::from_secs_f64(1.0 / rate);
                    slot
                }
            }
        };
        tokio::time::sleep_until(wait_until).await;
    }

    /// A call went through: creep the rate back up by about one call per
    /// second, every second.
    pub async fn succeeded(&self) {
        let mut s = self.state.lock().await;
        if let Some(rate) = s.rate {
            s.rate = Some(rate + 1.0 / rate);
        }
    }

    /// The service throttled a call: slow down below what was just sent.
    pub async fn throttled(&self) {
        let mut s = self.state.lock().await;
        let sent = s.recent.len() as f64;
        let base = match s.rate {
            Some(rate) => rate.min(sent.max(MIN_RATE)),
            None => sent,
        };
        s.rate = Some((base * DECREASE).max(MIN_RATE));
    }
}

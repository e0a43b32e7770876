//! Pacing of the calls of one target: unlimited until the service
//! throttles, then a rate that settles just under the service's limit
//! instead of bursting and backing off. Like TCP's congestion control: a
//! multiplicative cut once per congestion, a fast start while the limit is
//! unknown, a fast return to the last known limit, a slow probe past it.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// How much the rate drops on a throttle. Gentle, because the service's
/// limit is steady: a deep cut wastes capacity for many seconds.
const DECREASE: f64 = 0.9;
/// Growth per second while no limit is known: a throttle in the first
/// moments may be someone else's traffic (or the previous step's) and says
/// little about the limit, so the rate must not stay that low for long.
const START: f64 = 0.5;
/// Calls per second gained per second while below the rate that was last
/// throttled, and above it: back to the known limit fast, then probe past
/// it slowly, because every throttled call wastes a slot.
const RECOVER: f64 = 1.0;
const PROBE: f64 = 0.2;
/// How long after a cut throttles are not news: a per-second limit stays
/// saturated for up to a second after a burst, so calls sent then are
/// throttled at any rate. Cutting for each of them collapsed a burst's
/// 10 calls/s to 4 on the emulator's sliding window.
const HOLD: Duration = Duration::from_secs(1);
const MIN_RATE: f64 = 0.5;

#[derive(Debug)]
pub(crate) struct Pace {
    state: Mutex<PaceState>,
}

#[derive(Debug)]
struct PaceState {
    /// Calls per second, once the service has pushed back.
    rate: Option<f64>,
    next_slot: Instant,
    /// Start times of recent calls, to measure the rate that got throttled.
    recent: VecDeque<Instant>,
    /// When the rate last dropped: calls sent before then, or within
    /// [`HOLD`] after, meet the same full window, and their throttles are
    /// the same news, not new news.
    last_decrease: Option<Instant>,
    /// The rate that was being sent when the service last pushed back.
    ceiling: Option<f64>,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            state: Mutex::new(PaceState {
                rate: None,
                next_slot: Instant::now(),
                recent: VecDeque::new(),
                last_decrease: None,
                ceiling: None,
            }),
        }
    }
}

impl Pace {
    /// Wait for this call's turn; answers when it was.
    pub(crate) async fn turn(&self) -> Instant {
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
        // Only a turn still ahead is slept for: tokio's timer rounds a
        // deadline up to its next millisecond tick, so sleeping until "now"
        // held every unpaced call back about a millisecond.
        if wait_until > Instant::now() {
            tokio::time::sleep_until(wait_until).await;
        }
        wait_until
    }

    /// A call went through: raise the rate (`rate` successes a second, so
    /// per second: ×(1 + `START`) with no known limit, + `RECOVER` below
    /// it, + `PROBE` above it).
    pub(crate) async fn succeeded(&self) {
        let mut s = self.state.lock().await;
        if let Some(rate) = s.rate {
            let gain = match s.ceiling {
                None => START * rate,
                Some(ceiling) if rate < ceiling => RECOVER,
                Some(_) => PROBE,
            };
            s.rate = Some(rate + gain / rate);
        }
    }

    /// The service throttled a call sent at `sent_at`: slow down below what
    /// was just sent, once per congestion. Every call in flight when the
    /// limit is hit comes back throttled, and so do calls sent while the
    /// limit's window drains; cutting the rate for each of them compounded
    /// to well under the limit.
    pub(crate) async fn throttled(&self, sent_at: Instant) {
        let mut s = self.state.lock().await;
        if s.last_decrease.is_some_and(|t| sent_at < t + HOLD) {
            return;
        }
        s.last_decrease = Some(Instant::now());
        let sent = s.recent.len() as f64;
        let base = match s.rate {
            // Paced and still throttled: the limit is about what was sent.
            Some(rate) => {
                let base = rate.min(sent.max(MIN_RATE));
                s.ceiling = Some(base);
                base
            }
            // The first push-back: what was sent says little yet.
            None => sent,
        };
        s.rate = Some((base * DECREASE).max(MIN_RATE));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn rate(pace: &Pace) -> Option<f64> {
        pace.state.lock().await.rate
    }

    #[tokio::test(start_paused = true)]
    async fn an_unpaced_turn_is_not_held_back_to_the_next_timer_tick() {
        let pace = Pace::default();
        // Between two of tokio's millisecond ticks, where a sleep until
        // "now" would wait for the next one.
        tokio::time::advance(Duration::from_micros(400)).await;
        for _ in 0..3 {
            let before = Instant::now();
            let turn = pace.turn().await;
            assert_eq!(turn, before);
            assert_eq!(Instant::now(), before, "the turn waited for nothing");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn throttles_of_calls_sent_before_a_slowdown_do_not_slow_it_again() {
        let pace = Pace::default();
        let mut sent = Vec::new();
        for _ in 0..10 {
            sent.push(pace.turn().await);
        }
        // All ten come back throttled: one congestion, one cut.
        for at in &sent {
            pace.throttled(*at).await;
        }
        let once = rate(&pace).await.expect("paced after a throttle");
        assert!((once - 10.0 * DECREASE).abs() < 1e-9, "{once}");

        // So is a call sent just after the cut, while the window drains.
        let soon = pace.turn().await;
        pace.throttled(soon).await;
        assert_eq!(rate(&pace).await, Some(once));

        // A call sent after the hold and throttled again is new news.
        tokio::time::sleep(HOLD).await;
        let later = pace.turn().await;
        pace.throttled(later).await;
        let twice = rate(&pace).await.expect("still paced");
        assert!(twice < once, "{twice} !< {once}");
    }

    #[tokio::test(start_paused = true)]
    async fn successes_recover_fast_to_the_last_limit_then_probe_slowly() {
        let pace = Pace::default();
        let mut sent = Vec::new();
        for _ in 0..10 {
            sent.push(pace.turn().await);
        }
        pace.throttled(sent[9]).await;
        // Paced and throttled again, a second later: now the limit is known.
        tokio::time::sleep(HOLD).await;
        let at = pace.turn().await;
        pace.throttled(at).await;
        let ceiling = pace.state.lock().await.ceiling.expect("a known limit");
        let mut rates = vec![rate(&pace).await.expect("paced")];
        for _ in 0..40 {
            pace.turn().await;
            pace.succeeded().await;
            rates.push(rate(&pace).await.expect("paced"));
        }
        let steps: Vec<f64> = rates.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(steps.iter().all(|s| *s > 0.0), "{rates:?}");
        let back = rates
            .iter()
            .position(|r| *r >= ceiling)
            .expect("back at the limit");
        assert!(steps[back] < steps[0] / 3.0, "{rates:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_before_the_limit_is_known_does_not_pin_the_rate_low() {
        // Two calls, throttled by a window someone else filled.
        let pace = Pace::default();
        pace.turn().await;
        let at = pace.turn().await;
        pace.throttled(at).await;
        let low = rate(&pace).await.expect("paced");
        assert!(low < 2.0, "{low}");
        // Four seconds of successes at the growing rate.
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(4) {
            pace.turn().await;
            pace.succeeded().await;
        }
        let now = rate(&pace).await.expect("paced");
        assert!(now > 4.0 * low, "{low} -> {now} in 4 s");
    }
}

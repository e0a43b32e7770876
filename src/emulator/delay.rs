//! The latency fault's waits, timed by a thread of their own.
//!
//! tokio's timer rounds each deadline up to its next millisecond tick and
//! wakes on a tick: a "25 ms" answer measured 26.7 ms from a raw client
//! (median of 40), which put 7% on every floor the benchmark measures
//! against. A thread waiting on a condition variable with a timeout wakes
//! within a fraction of a millisecond.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// Wait `latency`, to within a fraction of a millisecond.
pub(super) async fn sleep(latency: Duration) {
    let Some(timer) = timer() else {
        // The timer thread could not start: tokio's timer is close enough.
        tokio::time::sleep(latency).await;
        return;
    };
    let (wake, woken) = oneshot::channel();
    let at = Instant::now() + latency;
    let earliest = {
        let mut waiting = timer.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        let earliest = waiting.peek().map(|Reverse(due)| due.at);
        waiting.push(Reverse(Due { at, wake }));
        earliest
    };
    // With one latency for every call, a new wait ends after those already
    // waiting: the thread is not woken for it, only at the deadlines.
    if earliest.is_none_or(|earliest| at < earliest) {
        timer.changed.notify_one();
    }
    let _ = woken.await;
}

struct Due {
    at: Instant,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}

impl Eq for Due {}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Due {
    fn cmp(&self, other: &Self) -> Ordering {
        self.at.cmp(&other.at)
    }
}

/// The waits, earliest first, and the signal of a new earliest one.
#[derive(Default)]
struct Timer {
    waiting: Mutex<BinaryHeap<Reverse<Due>>>,
    changed: Condvar,
}

/// The process's timer thread, started on first use; it lives as long as
/// the process. `None` if it could not start.
fn timer() -> Option<&'static Timer> {
    static TIMER: OnceLock<Option<Arc<Timer>>> = OnceLock::new();
    TIMER
        .get_or_init(|| {
            let timer = Arc::new(Timer::default());
            let serving = timer.clone();
            std::thread::Builder::new()
                .name("emulator-latency".to_owned())
                .spawn(move || run(&serving))
                .ok()
                .map(|_| timer)
        })
        .as_deref()
}

fn run(timer: &Timer) {
    let mut waiting = timer.waiting.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        let now = Instant::now();
        while waiting.peek().is_some_and(|Reverse(due)| due.at <= now) {
            if let Some(Reverse(due)) = waiting.pop() {
                // The request may be gone (client hung up): nothing to wake.
                let _ = due.wake.send(());
            }
        }
        waiting = match waiting.peek() {
            Some(Reverse(due)) => {
                let wait = due.at.saturating_duration_since(now);
                timer
                    .changed
                    .wait_timeout(waiting, wait)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            }
            None => timer
                .changed
                .wait(waiting)
                .unwrap_or_else(PoisonError::into_inner),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waits_end_in_deadline_order_whatever_the_order_they_began() {
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut running = tokio::task::JoinSet::new();
        for ms in [90u64, 10, 50] {
            let order = order.clone();
            running.spawn(async move {
                let started = Instant::now();
                sleep(Duration::from_millis(ms)).await;
                assert!(started.elapsed() >= Duration::from_millis(ms), "woke early");
                order.lock().unwrap().push(ms);
            });
        }
        while let Some(done) = running.join_next().await {
            done.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [10, 50, 90]);
    }
}

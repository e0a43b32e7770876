//! One API call, paced and retried as its kind allows: every read of
//! [`crate::live`], every mutating call of `apply`, and the caller-identity
//! check.
//!
//! Throttling is always retried (the call was rejected, nothing happened).
//! A request that never reached the service (connection refused, a name
//! that does not resolve, a failed TLS handshake) changed nothing either,
//! and is retried briefly. (Which is which, the [`crate::service`]
//! implementation says of each attempt.) Anything else that goes wrong after the request
//! left (a 5xx, no answer in time, a connection closed before the answer
//! came) is ambiguous: the service may have made the change. Idempotent
//! calls (reads, tag, untag, update, delete) are retried; creates are handed
//! back to the caller, which looks for the resource before creating again.
//!
//! Each call has one deadline, `--timeout`, for all its attempts, and every
//! failure is one line naming the endpoint, the cause, the attempts and the
//! time spent.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::interrupt;
use crate::service::Attempt;

mod pace;

pub(crate) use pace::Pace;

/// Answers received from any endpoint so far (every attempt that got one),
/// for the progress a terminal shows.
static ANSWERED: AtomicU64 = AtomicU64::new(0);

/// How many answers calls have received so far, in this process.
pub(crate) fn answered() -> u64 {
    ANSWERED.load(Ordering::Relaxed)
}

/// How long a command waits on one call, all attempts included, unless
/// `--timeout` says otherwise.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Calls in flight at once across every target of a run, by default: large
/// enough that a 200-target fleet at 25 ms per call is bound by the
/// per-target concurrency and the CPU, not by this.
pub(crate) const DEFAULT_MAX_IN_FLIGHT: usize = 256;

/// The one limit on calls in flight, shared by every channel of the run.
static IN_FLIGHT: OnceLock<Semaphore> = OnceLock::new();

/// Set the run's limit on calls in flight (`--max-in-flight`); the first
/// call wins, before any API call is made.
pub(crate) fn limit_in_flight(max: usize) {
    let _ = IN_FLIGHT.set(Semaphore::new(max.max(1)));
}

fn in_flight() -> &'static Semaphore {
    IN_FLIGHT.get_or_init(|| Semaphore::new(DEFAULT_MAX_IN_FLIGHT))
}

/// Why a call did not go through, sorted by what may be done about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// A service quota; retrying cannot help.
    Quota(String),
    /// The resource does not exist (any more).
    NotFound(String),
    /// The request reached the service (or may have), and the service may
    /// or may not have made the change.
    Ambiguous(String),
    /// The request never reached the service: nothing happened.
    Unreachable(String),
    /// Refused for a reason a retry will not change.
    Rejected {
        code: Option<String>,
        message: String,
    },
    /// Not sent, because the command was interrupted. `after` is the
    /// ambiguous failure of an earlier attempt, if there was one: that
    /// attempt may have gone through.
    Interrupted { after: Option<String> },
}

impl Failure {
    pub(crate) fn message(&self) -> String {
        match self {
            Failure::Quota(m)
            | Failure::NotFound(m)
            | Failure::Ambiguous(m)
            | Failure::Unreachable(m) => m.clone(),
            Failure::Rejected { message, .. } => message.clone(),
            Failure::Interrupted { after: None } => "interrupted before it was sent".to_owned(),
            Failure::Interrupted { after: Some(why) } => format!(
                "interrupted before a retry; the earlier attempt may have gone through ({why})"
            ),
        }
    }
}

/// Where one target's calls go, and the rules they follow: one pace (so a
/// throttled account slows every phase down, not just one), the endpoint
/// (for messages), and the deadline of each call.
#[derive(Debug)]
pub(crate) struct Channel {
    pace: Arc<Pace>,
    endpoint: String,
    timeout: Duration,
}

/// Attempts of a request that never reached the service, and the pause
/// before each retry: a refused port fails within about two seconds.
const UNREACHABLE_ATTEMPTS: u32 = 3;
const UNREACHABLE_PAUSE: Duration = Duration::from_millis(500);
/// Attempts of an idempotent call whose outcome was ambiguous.
const AMBIGUOUS_ATTEMPTS: u32 = 7;
/// Throttling is expected and retried for as long as this many attempts.
const THROTTLE_RETRIES: u32 = 400;
/// The share of the deadline one attempt may use, so a stalled connection
/// is abandoned and retried instead of eating the whole budget.
const ATTEMPTS_PER_DEADLINE: u32 = 3;

impl Channel {
    /// A channel to `endpoint`, sharing `pace` with the target's other
    /// channels (both names of the service share the account's rate).
    pub(crate) fn new(endpoint: impl Into<String>, timeout: Duration, pace: Arc<Pace>) -> Channel {
        Channel {
            pace,
            endpoint: endpoint.into(),
            timeout,
        }
    }

    /// Run `call` paced: retry throttling, requests that never left, and
    /// ambiguous failures too when `idempotent`; within the deadline, and
    /// never once the command is interrupted.
    pub(crate) async fn call<T, F, Fut>(&self, idempotent: bool, mut call: F) -> Result<T, Failure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Attempt>>,
    {
        let started = Instant::now();
        // Waiting for the pace, and attempts the service throttled, are not
        // the endpoint failing to answer: they push the deadline back.
        let mut deadline = started + self.timeout;
        let attempt_limit = (self.timeout / ATTEMPTS_PER_DEADLINE).max(Duration::from_secs(1));
        let mut attempts = 0u32;
        let mut throttled = 0u32;
        let mut never_sent = 0u32;
        // Attempts whose outcome was ambiguous; throttled ones do not count.
        let mut unclear = 0u32;
        let mut ambiguous: Option<String> = None;
        loop {
            if interrupt::requested().is_some() {
                return Err(Failure::Interrupted { after: ambiguous });
            }
            let turn_from = Instant::now();
            let sent_at = tokio::select! {
                at = self.pace.turn() => at,
                _ = interrupt::wait() => return Err(Failure::Interrupted { after: ambiguous }),
            };
            // A turn under the run's limit on calls in flight: waiting for
            // one is not the endpoint's time either.
            let permit = tokio::select! {
                permit = in_flight().acquire() => permit.expect("the limit is never closed"),
                _ = interrupt::wait() => return Err(Failure::Interrupted { after: ambiguous }),
            };
            deadline += Instant::now().saturating_duration_since(turn_from);
            attempts += 1;
            let limit = attempt_limit.min(deadline.saturating_duration_since(Instant::now()));
            let answer = tokio::time::timeout(limit, call()).await;
            drop(permit);
            if answer.is_ok() {
                ANSWERED.fetch_add(1, Ordering::Relaxed);
            }
            let attempt = match answer {
                Ok(Ok(value)) => {
                    self.pace.succeeded().await;
                    return Ok(value);
                }
                Ok(Err(attempt)) => attempt,
                Err(_) => Attempt::Ambiguous("no answer".to_owned()),
            };
            // Another attempt after `pause` only if it gets a fair share of
            // the deadline: a last attempt cut to nothing says nothing.
            let room = |pause: Duration| {
                deadline.saturating_duration_since(Instant::now() + pause) >= attempt_limit / 2
            };
            let spent = || self.spent(attempts, started);
            match attempt {
                Attempt::Throttled if throttled < THROTTLE_RETRIES => {
                    throttled += 1;
                    deadline += sent_at.elapsed();
                    self.pace.throttled(sent_at).await;
                }
                Attempt::Throttled => {
                    return Err(Failure::Ambiguous(format!(
                        "{} kept throttling ({}); the account's rate limit is shared with \
                         something else calling it, try again later",
                        self.endpoint,
                        spent()
                    )));
                }
                Attempt::NeverSent(cause) => {
                    never_sent += 1;
                    if never_sent >= UNREACHABLE_ATTEMPTS || !room(UNREACHABLE_PAUSE) {
                        let failure = format!(
                            "cannot reach {}: {cause} ({}); check --endpoint-url, \
                             AWS_ENDPOINT_URL and the network",
                            self.endpoint,
                            spent()
                        );
                        // An earlier attempt may have got through before
                        // the endpoint went away.
                        return Err(match ambiguous {
                            Some(_) => Failure::Ambiguous(failure),
                            None => Failure::Unreachable(failure),
                        });
                    }
                    self.pause(UNREACHABLE_PAUSE, &ambiguous).await?;
                }
                Attempt::Ambiguous(cause) => {
                    let failure = format!("{}: {cause} ({})", self.endpoint, spent());
                    if !idempotent {
                        return Err(Failure::Ambiguous(failure));
                    }
                    unclear += 1;
                    let pause = backoff(unclear);
                    if unclear >= AMBIGUOUS_ATTEMPTS {
                        return Err(Failure::Ambiguous(failure));
                    }
                    if !room(pause) {
                        return Err(Failure::Ambiguous(format!(
                            "{failure}; gave up within --timeout {}: check the endpoint and \
                             the network, or raise --timeout",
                            seconds(self.timeout)
                        )));
                    }
                    ambiguous = Some(failure);
                    self.pause(pause, &ambiguous).await?;
                }
                Attempt::Failed(failure) => return Err(failure),
            }
        }
    }

    /// Sleep before a retry, unless the command is interrupted meanwhile.
    async fn pause(&self, pause: Duration, ambiguous: &Option<String>) -> Result<(), Failure> {
        tokio::select! {
            () = tokio::time::sleep(pause) => Ok(()),
            _ = interrupt::wait() => Err(Failure::Interrupted { after: ambiguous.clone() }),
        }
    }

    fn spent(&self, attempts: u32, started: Instant) -> String {
        let tries = if attempts == 1 { "attempt" } else { "attempts" };
        format!("{attempts} {tries} in {}", seconds(started.elapsed()))
    }
}

/// A duration as messages show it: `30 s`, `2.1 s`, `0.02 s`.
pub(crate) fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{s:.2} s")
    } else if (s - s.round()).abs() < 0.05 {
        format!("{} s", s.round())
    } else {
        format!("{s:.1} s")
    }
}

/// Exponential backoff with a little deterministic spread, capped at 5 s.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let base = 100u64.saturating_mul(1 << attempt.min(6));
    Duration::from_millis(base.min(5_000) + u64::from(attempt) * 37 % 100)
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use super::*;

    /// A call answering `script` in order, then succeeding; how many
    /// attempts it took.
    async fn run(
        channel: &Channel,
        idempotent: bool,
        script: Vec<Attempt>,
    ) -> (Result<(), Failure>, usize) {
        let script = Mutex::new(VecDeque::from(script));
        let made = Mutex::new(0);
        let result = channel
            .call(idempotent, || {
                *made.lock().unwrap() += 1;
                let next = script.lock().unwrap().pop_front();
                async move { next.map_or(Ok(()), Err) }
            })
            .await;
        (result, made.into_inner().unwrap())
    }

    fn channel() -> Channel {
        Channel::new("http://endpoint", DEFAULT_TIMEOUT, Arc::default())
    }

    #[tokio::test(start_paused = true)]
    async fn throttles_do_not_use_up_the_retries_of_unclear_answers() {
        let mut script = vec![Attempt::Throttled; 20];
        script.extend(vec![Attempt::Ambiguous("500".to_owned()); 6]);
        let (result, made) = run(&channel(), true, script).await;
        assert_eq!(result, Ok(()));
        assert_eq!(made, 27);
    }

    #[tokio::test(start_paused = true)]
    async fn a_create_is_never_retried_after_an_unclear_answer() {
        let (result, made) = run(&channel(), false, vec![Attempt::Ambiguous("reset".into())]).await;
        assert!(
            matches!(result, Err(Failure::Ambiguous(m)) if m.starts_with("http://endpoint: reset (1 attempt"))
        );
        assert_eq!(made, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_that_never_left_is_tried_three_times_then_named() {
        let refused = vec![Attempt::NeverSent("connection refused".into()); 5];
        let (result, made) = run(&channel(), false, refused).await;
        assert_eq!(made, 3);
        match result {
            Err(Failure::Unreachable(m)) => assert!(
                m.starts_with(
                    "cannot reach http://endpoint: connection refused (3 attempts in 1 s)"
                ),
                "{m}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn unclear_answers_stop_within_the_timeout() {
        let channel = Channel::new("http://endpoint", Duration::from_secs(2), Arc::default());
        let forever = vec![Attempt::Ambiguous("no answer".into()); 100];
        let started = Instant::now();
        let (result, made) = run(&channel, true, forever).await;
        assert!(
            started.elapsed() <= Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert!(made < 7, "{made}");
        assert!(
            matches!(&result, Err(Failure::Ambiguous(m)) if m.contains("gave up within --timeout 2 s")),
            "{result:?}"
        );
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(seconds(Duration::from_secs(30)), "30 s");
        assert_eq!(seconds(Duration::from_millis(2140)), "2.1 s");
        assert_eq!(seconds(Duration::from_millis(20)), "0.02 s");
    }
}

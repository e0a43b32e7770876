//! Ctrl-C and SIGTERM, as CI sends them when a job is cancelled.
//!
//! The first signal is a request: nothing new starts (no call is sent, no
//! change begins), the calls in flight finish within their deadline, and the
//! command reports what was done and what was not before it exits 130
//! (SIGINT) or 143 (SIGTERM). A second signal exits at once.
//!
//! The state is process-wide, like the signals themselves; without
//! [`install`] (in-process callers, tests) nothing is ever interrupted.

use std::sync::OnceLock;

use tokio::sync::watch;

/// Which signal asked the command to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
}

impl Signal {
    /// The shell's convention: 128 + the signal's number.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }
}

fn state() -> &'static watch::Sender<Option<Signal>> {
    static STATE: OnceLock<watch::Sender<Option<Signal>>> = OnceLock::new();
    STATE.get_or_init(|| watch::Sender::new(None))
}

/// The signal received so far, if any.
pub fn requested() -> Option<Signal> {
    *state().borrow()
}

/// Wait until a signal is received (forever, if none is).
pub async fn wait() -> Signal {
    let mut receiver = state().subscribe();
    loop {
        if let Some(signal) = *receiver.borrow_and_update() {
            return signal;
        }
        if receiver.changed().await.is_err() {
            // The sender lives in a static: never dropped.
            std::future::pending::<()>().await;
        }
    }
}

/// Listen for SIGINT and SIGTERM on the current runtime: the first one is
/// recorded for [`requested`] and [`wait`] (the command says what it does
/// about it), a second one exits the process at once with the first one's
/// code.
pub fn install() {
    tokio::spawn(async {
        let Some(mut signals) = Signals::new() else {
            // No handler could be installed: the default action (exit) stays.
            return;
        };
        let first = signals.next().await;
        state().send_replace(Some(first));
        signals.next().await;
        eprintln!("Stopped at once: what the calls in flight did is unknown; run plan to see.");
        std::process::exit(i32::from(first.exit_code()));
    });
}

/// Both signals' streams, registered once so none is missed between two.
#[cfg(unix)]
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn new() -> Option<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Some(Signals {
            interrupt: signal(SignalKind::interrupt()).ok()?,
            terminate: signal(SignalKind::terminate()).ok()?,
        })
    }

    async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.interrupt.recv() => Signal::Interrupt,
            _ = self.terminate.recv() => Signal::Terminate,
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn new() -> Option<Signals> {
        Some(Signals)
    }

    async fn next(&mut self) -> Signal {
        match tokio::signal::ctrl_c().await {
            Ok(()) => Signal::Interrupt,
            Err(_) => std::future::pending().await,
        }
    }
}

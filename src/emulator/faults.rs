//! Injected faults: latency, throttling, internal errors and lost responses,
//! for every account or for one. Settings come from [`super::Config`] at
//! start and can be replaced while serving (`POST /_emulator/faults`): a
//! benchmark fills the emulator fast, then turns latency on; a test turns
//! faults off to inspect what is left, or slows one account of a fleet.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{parse_account_id, parse_rate};

/// One set of fault settings. Fields left out of a POST are off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct Faults {
    pub latency_ms: u64,
    pub throttle_rps: Option<u32>,
    pub error_rate: f64,
    pub lost_response_rate: f64,
}

impl Faults {
    pub(super) fn any(&self) -> bool {
        *self != Faults::default()
    }

    fn check(&self) -> Result<(), String> {
        parse_rate(&self.error_rate.to_string()).map_err(|e| format!("error_rate: {e}"))?;
        parse_rate(&self.lost_response_rate.to_string())
            .map_err(|e| format!("lost_response_rate: {e}"))?;
        Ok(())
    }
}

/// The body of `POST /_emulator/faults`: the settings, and the account they
/// are for (every account when absent).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FaultsRequest {
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    latency_ms: u64,
    #[serde(default)]
    throttle_rps: Option<u32>,
    #[serde(default)]
    error_rate: f64,
    #[serde(default)]
    lost_response_rate: f64,
}

/// The settings in force: one set for every account, and sets that replace
/// it for single accounts.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct FaultSettings {
    pub all: Faults,
    pub accounts: BTreeMap<String, Faults>,
}

impl FaultSettings {
    fn of(&self, account_id: &str) -> Faults {
        self.accounts.get(account_id).copied().unwrap_or(self.all)
    }

    pub(super) fn any(&self) -> bool {
        self.all.any() || self.accounts.values().any(Faults::any)
    }
}

/// How many faults were injected, by kind, since start or reset.
#[derive(Debug, Clone, Copy, Default, Serialize)]
struct Injected {
    throttled: u64,
    errors: u64,
    lost_responses: u64,
}

/// The settings, the throttling windows, the counts and the one seeded
/// generator, so a sequential run is reproducible.
pub(super) struct FaultState {
    settings: FaultSettings,
    /// Per account: arrival times of the requests let through in the last
    /// second.
    windows: BTreeMap<String, VecDeque<Instant>>,
    injected: Injected,
    rng: StdRng,
}

impl FaultState {
    pub(super) fn new(settings: FaultSettings, seed: u64) -> FaultState {
        FaultState {
            settings,
            windows: BTreeMap::new(),
            injected: Injected::default(),
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// How long to wait before answering a request of the account.
    pub(super) fn latency(&self, account_id: &str) -> Duration {
        Duration::from_millis(self.settings.of(account_id).latency_ms)
    }

    /// A sliding one-second window over the account's requests that were
    /// let through: true when this one is over the limit (and so not let
    /// through).
    pub(super) fn throttled(&mut self, account_id: &str, now: Instant) -> bool {
        let Some(limit) = self.settings.of(account_id).throttle_rps else {
            return false;
        };
        let window = self.windows.entry(account_id.to_owned()).or_default();
        while window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            window.pop_front();
        }
        if window.len() >= limit as usize {
            self.injected.throttled += 1;
            return true;
        }
        window.push_back(now);
        false
    }

    /// True when an internal error is to be injected before anything runs.
    pub(super) fn error(&mut self, account_id: &str) -> bool {
        let hit = self.chance(self.settings.of(account_id).error_rate);
        self.injected.errors += u64::from(hit);
        hit
    }

    /// True when a committed change's response is to be lost.
    pub(super) fn lost_response(&mut self, account_id: &str) -> bool {
        let hit = self.chance(self.settings.of(account_id).lost_response_rate);
        self.injected.lost_responses += u64::from(hit);
        hit
    }

    /// True with probability `rate`; draws nothing when the fault is off so
    /// one fault's setting does not shift another's sequence.
    fn chance(&mut self, rate: f64) -> bool {
        rate > 0.0 && self.rng.random::<f64>() < rate
    }

    /// Apply a POST: without an account, the settings for every account
    /// (dropping the per-account ones); with one, that account's. The
    /// throttling windows concerned start again.
    pub(super) fn replace(&mut self, request: FaultsRequest) -> Result<(), String> {
        let faults = Faults {
            latency_ms: request.latency_ms,
            throttle_rps: request.throttle_rps,
            error_rate: request.error_rate,
            lost_response_rate: request.lost_response_rate,
        };
        faults.check()?;
        match request.account_id {
            Some(account_id) => {
                parse_account_id(&account_id).map_err(|e| format!("account_id: {e}"))?;
                self.windows.remove(&account_id);
                self.settings.accounts.insert(account_id, faults);
            }
            None => {
                self.settings = FaultSettings {
                    all: faults,
                    accounts: BTreeMap::new(),
                };
                self.windows.clear();
            }
        }
        Ok(())
    }

    /// Forget the windows and the counts (the settings stay).
    pub(super) fn reset(&mut self) {
        self.windows.clear();
        self.injected = Injected::default();
    }

    /// The settings in force and the faults injected so far: the settings
    /// for every account at the top, single accounts' under `accounts`.
    pub(super) fn answer(&self) -> Value {
        let mut answer = json!(self.settings.all);
        answer["accounts"] = json!(self.settings.accounts);
        answer["injected"] = json!(self.injected);
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: Value) -> FaultsRequest {
        serde_json::from_value(body).expect("a faults request")
    }

    #[test]
    fn an_accounts_settings_replace_the_others_for_it_alone() {
        let mut state = FaultState::new(FaultSettings::default(), 1);
        state
            .replace(request(
                json!({"account_id": "222222222222", "throttle_rps": 1}),
            ))
            .expect("valid");
        let now = Instant::now();
        assert!(!state.throttled("222222222222", now));
        assert!(state.throttled("222222222222", now), "over its limit");
        for _ in 0..5 {
            assert!(!state.throttled("111111111111", now), "others unlimited");
        }
        state
            .replace(request(json!({"throttle_rps": 1})))
            .expect("valid");
        assert!(!state.throttled("111111111111", now));
        assert!(!state.throttled("222222222222", now), "its own window");
        assert!(state.throttled("111111111111", now));
        assert_eq!(state.answer()["injected"]["throttled"], 2);
        assert!(
            state
                .replace(request(json!({"account_id": "12", "latency_ms": 1})))
                .is_err()
        );
        assert!(state.replace(request(json!({"error_rate": 2.0}))).is_err());
    }
}

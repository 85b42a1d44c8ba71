//! Reloading: the same load as at start (file, environment, the original flags), then
//! [`crate::config::reload::plan`] decides what applies live.

use crate::config::{self, reload::Plan, Config, Overrides, Sources};
use std::path::PathBuf;

/// Remembers where the configuration came from, to read it again.
pub struct Reloader {
    pub path: PathBuf,
    pub explicit: bool,
    pub flags: Overrides,
}

impl Reloader {
    pub fn load(&self) -> Result<config::Loaded, config::ConfigError> {
        let env = |k: &str| std::env::var(k).ok();
        config::load(&Sources {
            path: &self.path,
            explicit: self.explicit,
            env: &env,
            flags: &self.flags,
        })
    }

    /// A new plan, or the reason the file was refused (the caller keeps `running`).
    pub fn reload(&self, running: &Config) -> Result<(Plan, Vec<String>), String> {
        let loaded = self.load().map_err(|e| e.to_string())?;
        Ok((
            config::reload::plan(running, loaded.config),
            loaded.warnings,
        ))
    }
}

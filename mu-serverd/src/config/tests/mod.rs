//! Tests of the loader: what a file may say and every refusal with the exact message an admin
//! sees ([`file`]), and the precedence chain defaults < file < environment < flags with
//! credentials, systemd's directories and the container keys ([`sources`]). Shared here: a
//! temporary directory and a load with a fake environment.

use super::build::{load, Loaded, Overrides, Sources};
use super::*;

mod file;
mod sources;
use std::collections::HashMap;
use std::path::Path;

struct Tmp(PathBuf);
impl Tmp {
    fn new(tag: &str) -> Tmp {
        let d = std::env::temp_dir().join(format!("mu-cfg-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Tmp(d)
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}
impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(
    path: &Path,
    explicit: bool,
    env: &[(&str, &str)],
    flags: &Overrides,
) -> Result<Loaded, ConfigError> {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let lookup = move |k: &str| env.get(k).cloned();
    load(&Sources {
        path,
        explicit,
        env: &lookup,
        flags,
    })
}

fn err_of(tag: &str, text: &str) -> String {
    let t = Tmp::new(tag);
    let p = t.write("c.toml", text);
    let e = run(&p, true, &[], &Overrides::default()).expect_err("must be refused");
    e.to_string().replace(&p.display().to_string(), "FILE")
}

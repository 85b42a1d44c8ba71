//! How replies are shown: aligned tables for people, and a stable JSON shape for scripts
//! (`{"ok": true, ...}` / `{"ok": false, "error": {"code", "message"}}`), documented in
//! docs/mu-ctl.md. Field names in JSON are the protocol's field names and never change.

use mu_ctl::proto::{StatusInfo, UserInfo};
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// "3d 4h", "2h 5m", "42s": compact elapsed time for tables.
pub fn ago(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

/// "1.5 KiB" style sizes.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Left-aligned columns separated by two spaces, header first.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else {
                l.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

pub fn users_table(users: &[UserInfo], now: u64) -> String {
    if users.is_empty() {
        return "no users connected\n".to_string();
    }
    let rows: Vec<Vec<String>> = users
        .iter()
        .map(|u| {
            vec![
                u.name.clone(),
                if u.admin { "yes" } else { "no" }.to_string(),
                u.status.clone(),
                format!("{} ms", u.latency_ms),
                ago(now.saturating_sub(u.connected_since_unix)),
                u.peer.clone().unwrap_or_else(|| "-".to_string()),
                format!("{}/{}", u.msgs_in, u.msgs_out),
                format!("{}/{}", bytes(u.bytes_in), bytes(u.bytes_out)),
            ]
        })
        .collect();
    table(
        &[
            "NAME",
            "ADMIN",
            "STATUS",
            "LATENCY",
            "CONNECTED",
            "PEER",
            "MSGS IN/OUT",
            "BYTES IN/OUT",
        ],
        &rows,
    )
}

pub fn status_text(s: &StatusInfo, now: u64) -> String {
    let ports: Vec<String> = s.ports.iter().map(u16::to_string).collect();
    let last_save = match s.last_save_unix {
        Some(t) => format!("{} ago", ago(now.saturating_sub(t))),
        None => "never".to_string(),
    };
    let mut rows = vec![
        ("version", s.version.clone()),
        ("uptime", ago(s.uptime_s)),
        ("session", s.session_state.clone()),
        ("users", s.users.to_string()),
        ("nodes", s.nodes.to_string()),
        ("stored", bytes(s.bytes_stored)),
        (
            "listening",
            format!("{} ports {}", s.bind, ports.join(", ")),
        ),
        (
            "config",
            s.config_file
                .clone()
                .unwrap_or_else(|| "(built-in defaults)".to_string()),
        ),
        ("last save", last_save),
    ];
    if let Some(j) = s.journal_bytes {
        rows.push(("journal", bytes(j)));
    }
    if let Some(d) = &s.state_dir {
        rows.push(("state dir", d.clone()));
    }
    rows.iter()
        .map(|(k, v)| format!("{:<10} {v}\n", format!("{k}:")))
        .collect()
}

pub fn users_json(users: &[UserInfo]) -> Value {
    json!({ "ok": true, "users": users })
}

pub fn status_json(s: &StatusInfo) -> Value {
    json!({ "ok": true, "status": s })
}

pub fn done_json(message: &str) -> Value {
    json!({ "ok": true, "message": message })
}

/// `code` is a protocol error code, or "unreachable"/"usage" for mu-ctl's own failures.
pub fn error_json(code: &str, message: &str) -> Value {
    json!({ "ok": false, "error": { "code": code, "message": message } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_and_sizes_read_naturally() {
        assert_eq!(ago(0), "0s");
        assert_eq!(ago(61), "1m 1s");
        assert_eq!(ago(3 * 3600 + 120), "3h 2m");
        assert_eq!(ago(2 * 86400 + 3600), "2d 1h");
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(5 * 1024 * 1024), "5.0 MiB");
    }

    #[test]
    fn tables_align_columns() {
        let t = table(
            &["A", "BB"],
            &[
                vec!["xxx".into(), "1".into()],
                vec!["y".into(), "22".into()],
            ],
        );
        assert_eq!(t, "A    BB\nxxx  1\ny    22\n");
    }
}

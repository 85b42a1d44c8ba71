//! How replies are shown: aligned tables for people, and a stable JSON shape for scripts
//! (`{"ok": true, ...}` / `{"ok": false, "error": {"code", "message"}}`), documented in
//! docs/mu-ctl.md. Field names in JSON are the protocol's field names and never change.

use mu_ctl::proto::{HistoryInfo, SettingsInfo, StatusInfo, UserInfo};
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

pub fn status_json(s: &StatusInfo, settings: Option<&SettingsInfo>) -> Value {
    match settings {
        Some(set) => json!({ "ok": true, "status": s, "settings": set }),
        None => json!({ "ok": true, "status": s }),
    }
}

/// The rows `mu-ctl status` adds after the status: PID, socket, passwords set or not.
pub fn settings_text(s: &SettingsInfo) -> String {
    let server = if s.server_password_set {
        "set (private session)"
    } else {
        "not set (public session)"
    };
    let admin = if s.admin_login {
        "enabled"
    } else {
        "disabled (no admin password)"
    };
    [
        ("pid", s.pid.to_string()),
        ("socket", s.socket.clone()),
        ("server pw", server.to_string()),
        ("admin", admin.to_string()),
    ]
    .iter()
    .map(|(k, v)| format!("{:<10} {v}\n", format!("{k}:")))
    .collect()
}

pub fn done_json(message: &str) -> Value {
    json!({ "ok": true, "message": message })
}

/// `code` is a protocol error code, or "unreachable"/"usage" for mu-ctl's own failures.
pub fn error_json(code: &str, message: &str) -> Value {
    json!({ "ok": false, "error": { "code": code, "message": message } })
}

/// `mu-ctl history --json`: the reply as is, times in milliseconds since the epoch.
pub fn history_json(h: &HistoryInfo) -> Value {
    json!({
        "ok": true,
        "history": h,
    })
}

/// `mu-ctl history`: the span, then one line per minute with changes or logins.
pub fn history_text(h: &HistoryInfo) -> String {
    use crate::when::{local_hm, local_text};
    let mut out = String::new();
    match (h.oldest_unix_ms, h.newest_unix_ms) {
        (Some(a), Some(b)) => out.push_str(&format!(
            "restore points from {} to {} (local time); {} generation(s), {} on disk\n",
            local_text(a),
            local_text(b),
            h.generations,
            bytes(h.disk_bytes)
        )),
        _ => out.push_str("no restore points yet\n"),
    }
    for g in &h.gaps {
        out.push_str(&format!("  gap: {g}\n"));
    }
    for i in &h.intervals {
        let busiest: Vec<String> = i
            .busiest
            .iter()
            .map(|a| {
                let what = if a.kind == "reset" { "" } else { " nodes" };
                format!("{} {} {}{what}", a.who, a.kind, a.count)
            })
            .collect();
        out.push_str(&format!(
            "{}-{}  {:>6} nodes {:>10}  {:>5} change(s)  users: {}{}{}\n",
            local_hm(i.from_unix_ms),
            local_hm(i.to_unix_ms),
            i.nodes,
            bytes(i.bytes),
            i.changes,
            if i.users.is_empty() {
                "-".to_string()
            } else {
                i.users.join(",")
            },
            if busiest.is_empty() { "" } else { "  " },
            busiest.join("; ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_lines_say_who_did_what() {
        use mu_ctl::proto::{Activity, HistoryInterval};
        let act = |who: &str, kind: &str, count| Activity {
            who: who.into(),
            kind: kind.into(),
            count,
        };
        let h = HistoryInfo {
            oldest_unix_ms: Some(1_796_652_000_000),
            newest_unix_ms: Some(1_796_652_150_000),
            disk_bytes: 3 << 20,
            generations: 2,
            intervals: vec![HistoryInterval {
                from_unix_ms: 1_796_652_120_000,
                to_unix_ms: 1_796_652_180_000,
                nodes: 9700,
                bytes: 11 << 20,
                users: vec!["alice".into(), "bob".into()],
                changes: 313,
                busiest: vec![act("alice", "deleted", 312), act("bob", "committed", 1)],
            }],
            gaps: vec!["x to y: journal 3 damaged".into()],
        };
        let text = history_text(&h);
        assert!(text.contains("2 generation(s), 3.0 MiB on disk"), "{text}");
        assert!(text.contains("gap: x to y: journal 3 damaged"), "{text}");
        let line = text.lines().last().unwrap();
        assert!(line.contains("9700 nodes"), "{line}");
        assert!(line.contains("313 change(s)  users: alice,bob"), "{line}");
        assert!(
            line.ends_with("alice deleted 312 nodes; bob committed 1 nodes"),
            "{line}"
        );
        let empty = HistoryInfo {
            oldest_unix_ms: None,
            newest_unix_ms: None,
            disk_bytes: 0,
            generations: 0,
            intervals: vec![],
            gaps: vec![],
        };
        assert_eq!(history_text(&empty), "no restore points yet\n");
        assert_eq!(history_json(&empty)["history"]["generations"], 0);
    }

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

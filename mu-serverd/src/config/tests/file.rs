//! What a configuration file may say: each key's refusal names its key and line, the shipped
//! example documents the real defaults, client versions and session totals reach the core.

use super::*;

#[test]
fn defaults_when_default_file_absent() {
    let l = run(
        Path::new("/nonexistent/mu-server.toml"),
        false,
        &[],
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(l.config, Config::default());
    assert_eq!(l.config.server.port, 5555);
    assert_eq!(l.config.server.bind, "0.0.0.0");
    assert_eq!(l.config.server.timeout_ms, 10_000);
    // One default: a core built without a configuration times clients out like the daemon.
    let core = crate::session::SessionConfig::default();
    assert_eq!(core.timeout_ms, l.config.server.timeout_ms);
    assert!(l.config.auth.admin_password.is_none());
    assert!(l.config.auth.server_password.is_none());
}

#[test]
fn explicit_missing_file_is_an_error() {
    let e = run(
        Path::new("/nonexistent/x.toml"),
        true,
        &[],
        &Overrides::default(),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/nonexistent/x.toml: cannot read:"),
        "{e}"
    );
}

#[test]
fn unknown_key_names_line() {
    let e = err_of("unk", "[server]\nport = 6000\nprot = 1\n");
    assert!(e.starts_with("FILE:3: unknown field `prot`"), "{e}");
}

#[test]
fn unknown_section_names_line() {
    let e = err_of("sec", "# hi\n\n[serverr]\nport = 1\n");
    assert!(e.starts_with("FILE:3: unknown field `serverr`"), "{e}");
}

#[test]
fn wrong_type_names_line() {
    let e = err_of("type", "[server]\nbind = \"0.0.0.0\"\nport = \"6000\"\n");
    assert!(
        e.starts_with("FILE:3: invalid type: string \"6000\", expected i64"),
        "{e}"
    );
}

#[test]
fn syntax_error_names_line() {
    let e = err_of("syn", "[server]\nport = = 1\n");
    assert!(e.starts_with("FILE:2: "), "{e}");
}

#[test]
fn port_zero_and_too_high() {
    assert_eq!(
        err_of("p0", "[server]\n\nport = 0\n"),
        "FILE:3: port: port 0 is out of range (1-65533; the server also uses port+1 and port+2)"
    );
    assert_eq!(
        err_of("p1", "[server]\nport = 65534\n"),
        "FILE:2: port: port 65534 is out of range (1-65533; the server also uses port+1 and port+2)"
    );
}

#[test]
fn bad_values_each_name_their_key_and_line() {
    let cases: &[(&str, &str)] = &[
        (
            "[server]\nbind = \"example.org\"\n",
            "FILE:2: bind: bind address 'example.org' is not an IP address",
        ),
        (
            "[server]\ntimeout_ms = 5\n",
            "FILE:2: timeout_ms: timeout 5 ms is out of range (100-3600000)",
        ),
        (
            "[server]\nmax_clients = 0\n",
            "FILE:2: max_clients: max_clients 0 is out of range (1-10000)",
        ),
        (
            "[server]\nmax_message_bytes = 10\n",
            "FILE:2: max_message_bytes: max_message_bytes 10 is out of range",
        ),
        (
            "[server]\nclient_queue_limit = 0\n",
            "FILE:2: client_queue_limit: client_queue_limit 0 is out of range",
        ),
        (
            "[server]\njoin_window = -1\n",
            "FILE:2: join_window: join_window -1 is out of range (0-100000)",
        ),
        (
            "[server]\njoin_window_bytes = 10\n",
            "FILE:2: join_window_bytes: join_window_bytes 10 is out of range",
        ),
        (
            "[server]\nmax_nodes = 0\n",
            "FILE:2: max_nodes: max_nodes 0 is out of range (1-100000000)",
        ),
        (
            "[server]\nport = 5555\nmax_session_bytes = 1000\n",
            "FILE:3: max_session_bytes: max_session_bytes 1000 is out of range (1048576-1099511627776)",
        ),
        (
            "[server]\nmax_metadata_bytes_per_user = -1\n",
            "FILE:2: max_metadata_bytes_per_user: max_metadata_bytes_per_user -1 is out of range",
        ),
        (
            "[server]\nmax_metadata_bytes_total = 17179869185\n",
            "FILE:2: max_metadata_bytes_total: max_metadata_bytes_total 17179869185 is out of range",
        ),
        (
            "[server]\nmax_nodes = \"many\"\n",
            "FILE:2:",
        ),
        (
            "[storage]\nstate_dir = \"relative\"\n",
            "FILE:2: state_dir: 'relative' is not an absolute path",
        ),
        (
            "[storage]\nfsync = \"sometimes\"\n",
            "FILE:2: fsync: 'sometimes' is not \"batch\" or \"always\"",
        ),
        (
            "[storage]\nmax_import_bytes = 10\n",
            "FILE:2: max_import_bytes: max_import_bytes 10 is out of range (1024-1099511627776)",
        ),
        (
            "[auth]\nadmin_password_file = \"/dev/zero\"\n",
            "FILE:2: admin_password_file: cannot read password file /dev/zero: is a character \
             device, not a regular file",
        ),
        (
            "[storage]\nhistory = \"24x\"\n",
            "FILE:2: history: '24x' is not a duration like \"30m\", \"24h\" or \"7d\"",
        ),
        (
            "[storage]\n\nhistory_max_bytes = -1\n",
            "FILE:3: history_max_bytes: history_max_bytes -1 is out of range",
        ),
        (
            "[log]\nlevel = \"loud\"\n",
            "FILE:2: level: log level 'loud' is not one of",
        ),
        (
            "[log]\ntarget = \"file\"\n",
            "FILE:2: target: 'file' is not one of",
        ),
        (
            "[control]\ngroup = \"a b\"\n",
            "FILE:2: group: 'a b' is not a group name",
        ),
        (
            "[auth]\nadmin_password = \"x\"\nadmin_password_file = \"/x\"\n",
            "FILE:3: admin_password and admin_password_file are both set; keep one",
        ),
        (
            "[auth]\nserver_password_file = \"/nonexistent/pw\"\n",
            "FILE:2: server_password_file: cannot read password file /nonexistent/pw:",
        ),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let got = err_of(&format!("bad{i}"), text);
        assert!(
            got.starts_with(want),
            "case {i}: got {got:?}, want prefix {want:?}"
        );
    }
}

/// The shipped example: as is (all commented) it means the defaults; uncommented, every
/// documented value is accepted and equals the built-in default it claims to be.
#[test]
fn example_config_documents_the_real_defaults() {
    let text = include_str!("../../../mu-server.toml");
    let t = Tmp::new("example");
    let p = t.write("as-shipped.toml", text);
    let l = run(&p, true, &[], &Overrides::default()).unwrap().config;
    assert_eq!(Config { file: None, ..l }, Config::default());

    let uncommented: String = text
        .lines()
        .map(|l| match l.strip_prefix('#') {
            Some(kv) if kv.contains(" = ") && !kv.contains("password") => kv,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        uncommented.contains("\nport = 5555"),
        "the example names the port"
    );
    let p = t.write("uncommented.toml", &uncommented);
    let mut l = run(&p, true, &[], &Overrides::default()).unwrap().config;
    assert_eq!(l.control.group.take().as_deref(), Some("mu-server"));
    assert!(l.storage.import.take().is_some());
    assert!(l.control.socket_explicit);
    l.control.socket_explicit = false;
    assert!(l.storage.state_dir_explicit);
    l.storage.state_dir_explicit = false;
    assert_eq!(Config { file: None, ..l }, Config::default());
}

#[test]
fn client_versions_default_and_list() {
    let t = Tmp::new("cv");
    let p = t.write(
        "c.toml",
        "[server]\nclient_versions = [\n  \"0.9.9\",\n  \"0.9.10\",\n]\n",
    );
    let l = run(&p, true, &[], &Overrides::default()).unwrap();
    assert_eq!(l.config.server.client_versions, vec!["0.9.9", "0.9.10"]);
    assert_eq!(Config::default().server.client_versions, vec!["0.9.10"]);
}

#[test]
fn bad_client_versions_name_the_entry_line() {
    let cases: &[(&str, &str)] = &[
        (
            "[server]\nclient_versions = []\n",
            "FILE:2: client_versions: the list is empty",
        ),
        (
            "[server]\nclient_versions = [\n  \"0.9.10\",\n  \"0.10.3\",\n]\n",
            "FILE:4: client_versions: replication 0.10.3 does not speak ZeroMQ: 0.9.12 and later \
             use a single-port transport",
        ),
        (
            "[server]\nclient_versions = [\"0.9.10\",\n \"0.9.10\"]\n",
            "FILE:3: client_versions: 0.9.10 is listed twice",
        ),
        (
            "[server]\nclient_versions = [\"latest\"]\n",
            "FILE:2: client_versions: 'latest' is not a replication release number",
        ),
        (
            "[server]\nclient_versions = \"0.9.10\"\n",
            "FILE:2: invalid type: string \"0.9.10\", expected a sequence",
        ),
        (
            "[server]\nclient_versions = [0.9]\n",
            "FILE:2: invalid type: floating point",
        ),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let got = err_of(&format!("cv{i}"), text);
        assert!(
            got.starts_with(want),
            "case {i}: got {got:?}, want prefix {want:?}"
        );
    }
}

#[test]
fn session_totals_from_the_file_reach_the_session_core() {
    let t = Tmp::new("totals");
    let p = t.write(
        "c.toml",
        "[server]\nmax_nodes = 500\nmax_session_bytes = 2097152\n\
         max_metadata_bytes_per_user = 4096\nmax_metadata_bytes_total = 65536\n",
    );
    let l = run(&p, true, &[], &Overrides::default()).unwrap();
    let s = crate::daemon::session_config::session_config(&l.config);
    assert_eq!(
        (
            s.max_nodes,
            s.max_session_bytes,
            s.max_user_metadata_bytes,
            s.max_metadata_bytes_total
        ),
        (500, 2 << 20, 4096, 65536)
    );
    // absent keys: the documented defaults
    let d = crate::daemon::session_config::session_config(&Config::default());
    assert_eq!(
        (
            d.max_nodes,
            d.max_session_bytes,
            d.max_user_metadata_bytes,
            d.max_metadata_bytes_total
        ),
        (1_000_000, 4 << 30, 2 << 20, 16 << 20)
    );
}

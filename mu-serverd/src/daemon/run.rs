//! [`Daemon`]: the one event loop. One `mio::Poll` holds the signalfd, the three ZMQ_FDs and
//! the control socket; every wake-up ends with [`Shell::pump`] (ZMQ edge rules), the store's
//! tick, the watchdog ping and a STATUS= refresh. The poll timeout is the earliest of the
//! core's deadline, the shell's retry timer, the watchdog and the store; idle means no wake-ups.

use super::control::Control;
use super::notify::Notifier;
use super::reload::Reloader;
use super::session_config::session_config;
use super::signals::{Request as SignalRequest, Signals};
use super::status;
use crate::config::Config;
use crate::session::{ControlRequest, Session};
use crate::shell::{Shell, SocketOptions};
use crate::store::Store;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use std::time::{Duration, Instant};

pub(super) const SIGNALS: Token = Token(0);
/// ZMQ_FDs: command, data, heartbeat; then their socket monitors (tokens 4-6).
pub(super) const ZMQ_FIRST: usize = 1;

/// STATUS= is recomputed at most this often: the summary walks every node.
const STATUS_EVERY: Duration = Duration::from_secs(1);
/// A stale STATUS= is refreshed on the first wake-up after `STATUS_EVERY`. When another wake-up
/// is already due by this long after the last refresh (while anyone is connected the heartbeat
/// round wakes the loop every second), the loop does not wake for STATUS= alone: a timer of its
/// own at `STATUS_EVERY` fired a few ms before each heartbeat round, two wake-ups instead of one.
const STATUS_LATEST: Duration = Duration::from_secs(2);

/// How often the logged-in users are compared with what the journal last recorded.
const USERS_EVERY: Duration = Duration::from_millis(100);

/// How long Disconnect messages may take to leave at shutdown before the sockets close.
const SHUTDOWN_LINGER: Duration = Duration::from_millis(1000);

pub struct Daemon {
    pub(super) poll: Poll,
    pub(super) shell: Shell,
    pub(super) session: Session,
    /// The store; `None`: persistence is off.
    pub(super) store: Option<Store>,
    pub(super) signals: Signals,
    pub(super) notifier: Notifier,
    pub(super) cfg: Config,
    pub(super) reloader: Reloader,
    pub(super) control: Option<Control>,
    pub(super) started: Instant,
    /// Set by SIGTERM/SIGINT or `mu-ctl stop`: the reason given to clients.
    pub(super) stop: Option<String>,
    /// When STATUS= was last computed, and the shell's activity count then; while they differ the
    /// status is stale and the loop wakes at `status_at + STATUS_EVERY` to refresh it.
    status_at: Instant,
    status_seen: u64,
    /// `mu-ctl history`, `export --at`, `restore --at` running on their threads.
    pub(super) history: super::history::Jobs,
    pub(super) last_restore_pause: Option<Duration>,
    /// When the logged-in users were last given to the store (for the history).
    users_noted_at: Instant,
    users_noted_count: usize,
    /// The loop's turn lengths, for the debug log.
    turns: super::turns::Turns,
}

/// What [`Daemon::bind`] opened: the ports and the control socket, before the session is read.
pub struct Bound {
    poll: Poll,
    shell: Shell,
    control: Option<Control>,
}

impl Daemon {
    /// Binds the three ports and the control socket. Runs after the state lock is taken and
    /// before the session is loaded, so a daemon that cannot have its ports (another server
    /// runs there) stops before it reads or writes any session file.
    pub fn bind(cfg: &Config) -> Result<Bound, String> {
        let opts = SocketOptions {
            bind: cfg.server.bind.clone(),
            port: cfg.server.port,
            max_message_bytes: cfg.server.max_message_bytes,
        };
        let shell = Shell::bind(&opts, cfg.server.client_queue_limit)?;
        let poll = Poll::new().map_err(|e| format!("cannot create the event loop: {e}"))?;
        let control = Control::start(cfg, poll.registry())?;
        Ok(Bound {
            poll,
            shell,
            control,
        })
    }

    /// Installs the restored session into what [`Daemon::bind`] opened and registers every
    /// source. READY is sent by [`Daemon::run`].
    pub fn start(
        bound: Bound,
        cfg: Config,
        reloader: Reloader,
        signals: Signals,
        session: Session,
        store: Option<Store>,
    ) -> Result<Daemon, String> {
        let Bound {
            poll,
            mut shell,
            control,
        } = bound;
        let fd = signals.raw_fd();
        poll.registry()
            .register(&mut SourceFd(&fd), SIGNALS, Interest::READABLE)
            .map_err(|e| format!("cannot watch signals: {e}"))?;
        shell
            .register(poll.registry(), ZMQ_FIRST)
            .map_err(|e| format!("cannot watch the ZeroMQ sockets: {e}"))?;
        // Every event is passed on (`note_event`), so a wake-up touches only the sockets that
        // fired or have work: a request/reply round trip costs no calls on the other two.
        shell.set_selective(true);
        log::info!(
            "listening on {} ports {}, {}, {} (command, data, heartbeat) for replication {} \
             clients",
            cfg.server.bind,
            cfg.server.port,
            cfg.server.port + 1,
            cfg.server.port + 2,
            cfg.server.client_versions.join(" or ")
        );
        Ok(Daemon {
            poll,
            shell,
            session,
            store,
            signals,
            notifier: Notifier::from_env(),
            cfg,
            reloader,
            control,
            started: Instant::now(),
            stop: None,
            status_at: Instant::now(),
            status_seen: 0,
            history: Default::default(),
            last_restore_pause: None,
            users_noted_at: Instant::now(),
            users_noted_count: 0,
            turns: super::turns::Turns::new(Instant::now()),
        })
    }

    /// Serves until SIGTERM/SIGINT or `mu-ctl stop`, then stops gracefully. Returns the exit code.
    pub fn run(mut self) -> i32 {
        let mut events = Events::with_capacity(64);
        let mut code = 0;
        let now = self.shell.now();
        let line = status::line(&mut self.session, now);
        self.notifier.ready(&line, Instant::now());
        log::info!("mu-serverd {} ready: {line}", env!("CARGO_PKG_VERSION"));
        while self.stop.is_none() {
            let timeout = self
                .next_wake()
                .map(|at| at.saturating_duration_since(Instant::now()));
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                log::error!("event loop failed: {e}");
                self.stop = Some("server error".into());
                code = 1;
                break;
            }
            for ev in events.iter() {
                let t = ev.token();
                if t == SIGNALS {
                    for req in self.signals.drain() {
                        self.on_signal(req);
                    }
                } else if self.control.as_ref().is_some_and(|c| c.owns(t)) {
                    self.on_control_event(t);
                } else {
                    // A ZMQ_FD: the pump below services that socket.
                    self.shell.note_event(t);
                }
            }
            self.pump();
            self.control_tick();
            self.poll_history_jobs();
        }
        self.shutdown();
        code
    }

    fn next_wake(&self) -> Option<Instant> {
        let other = [
            self.shell.next_wake(&self.session),
            self.notifier.deadline(),
            self.store.as_ref().map(Store::next_deadline),
            self.control.as_ref().and_then(|c| c.next_deadline()),
            self.history.next_wake(),
        ]
        .into_iter()
        .flatten()
        .min();
        if !self.status_stale() {
            return other;
        }
        // A stale STATUS= is due after STATUS_EVERY; it rides on another wake-up in
        // [due, STATUS_LATEST] rather than waking the loop by itself just before it.
        let due = self.status_at + STATUS_EVERY;
        match other {
            Some(o) if o >= due && o <= self.status_at + STATUS_LATEST => Some(o),
            Some(o) => Some(o.min(due)),
            None => Some(due),
        }
    }

    /// After every wake-up: ZMQ sockets and core, store timers, watchdog, status.
    pub(super) fn pump(&mut self) {
        let start = Instant::now();
        self.shell.pump(&mut self.session, &mut self.store);
        let now = Instant::now();
        self.turns.note(start, now);
        if let Some(store) = self.store.as_mut().filter(|s| s.next_deadline() <= now) {
            store.tick_session(now, &mut self.session);
        }
        self.notifier.tick(now);
        self.note_users(now);
        if self.status_stale() && now >= self.status_at + STATUS_EVERY {
            self.refresh_status(now);
        }
    }

    /// When the number of clients changed, else at most every [`USERS_EVERY`], and only while
    /// the loop is awake anyway: who is logged in, for the history's "who was connected" (the
    /// store writes it only when it changed).
    fn note_users(&mut self, now: Instant) {
        let count = self.session.client_count();
        if now < self.users_noted_at + USERS_EVERY && count == self.users_noted_count {
            return;
        }
        self.users_noted_at = now;
        self.users_noted_count = count;
        if let Some(store) = self.store.as_mut() {
            store.note_users(self.session.client_names());
        }
    }

    fn status_stale(&self) -> bool {
        self.shell.activity() != self.status_seen
    }

    fn refresh_status(&mut self, now: Instant) {
        self.status_at = now;
        self.status_seen = self.shell.activity();
        let line = status::line(&mut self.session, self.shell.now());
        self.notifier.status(&line);
    }

    fn on_signal(&mut self, req: SignalRequest) {
        match req {
            SignalRequest::Reload => {
                log::info!("SIGHUP: reloading the configuration");
                let _ = self.reload();
            }
            SignalRequest::Stop(name) => {
                log::info!("{name}: stopping");
                self.stop = Some("server shutting down".into());
            }
        }
    }

    /// Re-reads the configuration; on error the running one stays. Ok/Err carry the message
    /// for `mu-ctl reload`.
    pub(super) fn reload(&mut self) -> Result<String, String> {
        self.notifier.reloading();
        let result = self.reloader.reload(&self.cfg);
        let out = match result {
            Ok((plan, warnings)) => {
                for w in warnings {
                    log::warn!("{w}");
                }
                crate::logging::set_level(plan.effective.log.level);
                self.shell
                    .set_queue_limit(plan.effective.server.client_queue_limit);
                self.session.set_config(session_config(&plan.effective));
                self.cfg = plan.effective;
                let msg = if plan.needs_restart.is_empty() {
                    "configuration reloaded".to_string()
                } else {
                    format!(
                        "configuration reloaded; needs a restart to apply: {}",
                        plan.needs_restart.join(", ")
                    )
                };
                if plan.needs_restart.is_empty() {
                    log::info!("{msg}");
                } else {
                    log::warn!("{msg}");
                }
                Ok(msg)
            }
            Err(e) => {
                let msg = format!("reload refused, keeping the running configuration: {e}");
                log::error!("{msg}");
                Err(msg)
            }
        };
        let line = status::line(&mut self.session, self.shell.now());
        self.notifier.reloaded(&line);
        out
    }

    /// STOPPING=1, Disconnect to every client, final snapshot, sockets closed with a short
    /// linger so the Disconnects actually leave.
    fn shutdown(&mut self) {
        let reason = self
            .stop
            .clone()
            .unwrap_or_else(|| "server shutting down".into());
        self.notifier.stopping("shutting down");
        let now = self.shell.now();
        self.session
            .handle_control(now, ControlRequest::Shutdown { reason });
        self.shell.drain_actions(&mut self.session, &mut self.store);
        // Parked messages get a bounded chance to leave.
        let deadline = Instant::now() + SHUTDOWN_LINGER / 2;
        let mut events = Events::with_capacity(16);
        loop {
            self.shell.pump(&mut self.session, &mut self.store);
            let now = Instant::now();
            if self.shell.parked() == 0 || now >= deadline {
                break;
            }
            let wait = (deadline - now).min(Duration::from_millis(10));
            let _ = self.poll.poll(&mut events, Some(wait));
        }
        if let Some(store) = self.store.take() {
            store.shutdown_session(&mut self.session);
        }
        if let Some(c) = self.control.take() {
            c.close(self.poll.registry());
        }
        self.shell.deregister(self.poll.registry());
        self.shell.close(SHUTDOWN_LINGER);
        log::info!("stopped");
    }

    pub(super) fn uptime_s(&self) -> u64 {
        self.started.elapsed().as_secs()
    }
}

//! Type numbers and the precomputed frame 0 of every replication object.

/// `Commit`.
pub const T_COMMIT: u8 = 1;
/// `Node`.
pub const T_NODE: u8 = 2;

/// `pickle.dumps(n, protocol=4)` for n in 1..=14, exactly as CPython writes it.
const TYPE_FRAMES: [[u8; 5]; 14] = {
    let mut t = [[0x80, 0x04, 0x4b, 0, 0x2e]; 14];
    let mut i = 0;
    while i < 14 {
        t[i][3] = i as u8 + 1;
        i += 1;
    }
    t
};

/// Frame 0 for type number `t` (1..=14); `None` otherwise.
pub fn type_frame(t: u8) -> Option<&'static [u8]> {
    TYPE_FRAMES
        .get(usize::from(t).checked_sub(1)?)
        .map(|f| &f[..])
}

/// The command types (3..=14): frames `[type, owner, pickle(data)]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CommandKind {
    Command = 3,
    Delete = 4,
    Right = 5,
    Config = 6,
    Snapshot = 7,
    ServerSnapshot = 8,
    Auth = 9,
    Disconnect = 10,
    Kick = 11,
    UpdateClientsState = 12,
    UpdateUserMetadata = 13,
    RequestServerInfo = 14,
}

impl CommandKind {
    pub const ALL: [CommandKind; 12] = [
        CommandKind::Command,
        CommandKind::Delete,
        CommandKind::Right,
        CommandKind::Config,
        CommandKind::Snapshot,
        CommandKind::ServerSnapshot,
        CommandKind::Auth,
        CommandKind::Disconnect,
        CommandKind::Kick,
        CommandKind::UpdateClientsState,
        CommandKind::UpdateUserMetadata,
        CommandKind::RequestServerInfo,
    ];

    pub fn from_num(n: i64) -> Option<CommandKind> {
        CommandKind::ALL.iter().copied().find(|k| *k as i64 == n)
    }

    pub fn num(self) -> u8 {
        self as u8
    }

    /// The Python class name, for log lines.
    pub fn name(self) -> &'static str {
        match self {
            CommandKind::Command => "Command",
            CommandKind::Delete => "Delete",
            CommandKind::Right => "Right",
            CommandKind::Config => "Config",
            CommandKind::Snapshot => "Snapshot",
            CommandKind::ServerSnapshot => "ServerSnapshot",
            CommandKind::Auth => "Auth",
            CommandKind::Disconnect => "Disconnect",
            CommandKind::Kick => "Kick",
            CommandKind::UpdateClientsState => "UpdateClientsState",
            CommandKind::UpdateUserMetadata => "UpdateUserMetadata",
            CommandKind::RequestServerInfo => "RequestServerInfo",
        }
    }

    pub fn frame0(self) -> &'static [u8] {
        &TYPE_FRAMES[usize::from(self.num()) - 1]
    }
}

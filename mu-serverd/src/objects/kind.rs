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

/// The Python class name of type number `t`, for log lines (`"unknown type"` outside 1..=14).
pub fn type_name(t: u8) -> &'static str {
    match t {
        T_COMMIT => "Commit",
        T_NODE => "Node",
        _ => CommandKind::from_num(i64::from(t)).map_or("unknown type", CommandKind::name),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pickle::{decode, Limits, Value};

    /// Every type number `parse_type` accepts above Node is one kind and back; the frame 0 of
    /// each is the pickle of its number. A kind added to the enum but not to `ALL` could not be
    /// parsed; one added to neither `name` nor the session's dispatch does not compile (both
    /// match every kind, without a catch-all arm).
    #[test]
    fn every_command_type_number_is_one_kind() {
        let nums: Vec<u8> = CommandKind::ALL.iter().map(|k| k.num()).collect();
        assert_eq!(nums, (3..=14).collect::<Vec<u8>>());
        for n in -1..=256i64 {
            let kind = CommandKind::from_num(n);
            assert_eq!(
                kind.map(|k| i64::from(k.num())),
                (3..=14).contains(&n).then_some(n)
            );
        }
        for k in CommandKind::ALL {
            let v = decode(k.frame0(), &Limits::default());
            assert!(
                matches!(v, Ok(Value::Int(n)) if n == i64::from(k.num())),
                "{k:?}"
            );
            assert_eq!(type_name(k.num()), k.name());
        }
        assert_eq!(type_name(0), "unknown type");
        assert_eq!(type_name(15), "unknown type");
    }
}

//! The Unix control socket served inside the event loop, speaking mu-ctl's protocol.

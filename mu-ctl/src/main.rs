//! mu-ctl entry point. Placeholder until the daemon issue lands.
fn main() {
    eprintln!("mu-ctl: not implemented yet");
    std::process::exit(2);
}

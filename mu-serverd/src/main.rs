//! mu-serverd entry point. Placeholder until the shell and daemon issues land.
fn main() {
    eprintln!("mu-serverd: not implemented yet");
    std::process::exit(2);
}

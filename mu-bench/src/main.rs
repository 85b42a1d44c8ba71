//! mu-bench: measures mu-serverd against the reference server (issue 8). Placeholder until built.
fn main() {
    eprintln!("mu-bench: not implemented yet");
    std::process::exit(2);
}

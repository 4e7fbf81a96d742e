//! The WASI peer of ukc's `hello`: prints the greeting four times, no sleeping.
fn main() {
    for _ in 0..4 {
        println!("Hello World!");
    }
}

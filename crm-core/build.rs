// Re-embed the migrations whenever the folder changes (sqlx::migrate! alone can keep stale ones).
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}

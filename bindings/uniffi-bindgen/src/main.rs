//! The uniffi-bindgen CLI, built from the same uniffi version as the library (pinned in
//! both manifests), so the generated Kotlin and Swift always match the scaffolding.
fn main() {
    uniffi::uniffi_bindgen_main()
}

//! Process-wide memory settings.

/// Caps glibc's malloc at two arenas; call it first in `main`, before threads start.
///
/// By default glibc gives threads that allocate at the same time their own arenas (up to
/// eight per core), and each arena keeps what its threads freed. A backfill's threads
/// (tokio's workers, the blocking pool, the SQLite connections) then hold on to many
/// arenas' worth of freed pages: 60 days of the 1,000-store chain peaked at 978 MB
/// resident by default and at 356 MB with two arenas, for about 5 % more time (see
/// BENCHMARKS.md, session 6). A no-op on other C libraries.
#[allow(unsafe_code)] // one of the two places allowed (root Cargo.toml)
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets a tunable of the allocator; it is thread-safe.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

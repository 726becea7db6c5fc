//! Spreading independent, CPU-bound work (signature checks, HPKE seals) over the machine's
//! cores with scoped threads. No thread outlives the call, nothing is shared mutably, and the
//! results come back in input order, so the outcome is the same as a sequential loop.

/// Below this many items the work runs on the calling thread. Every caller's items are
/// public-key operations of 40–60 µs each, and spawning a scoped thread costs about 20 µs, so
/// two items per thread already pay for it.
const MIN_PARALLEL: usize = 4;
/// At most this many threads per call by default.
const MAX_THREADS: usize = 8;

/// The default thread count: the machine's parallelism, at most 8, read once (on Linux
/// `available_parallelism` opens and reads cgroup files each time it is called).
pub(crate) fn default_threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .min(MAX_THREADS)
    })
}

/// `items.iter().map(f).collect()`, on up to `threads` threads (the calling thread
/// included) when there are enough items. `threads` ≤ 1 never spawns a thread.
pub(crate) fn map<T: Sync, R: Send>(
    threads: usize,
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    if threads < 2 || items.len() < MIN_PARALLEL {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        // The calling thread takes the first chunk itself: one spawn fewer.
        let mut chunks = items.chunks(chunk);
        let first = chunks.next().unwrap_or_default();
        let handles: Vec<_> = chunks
            .map(|c| s.spawn(move || c.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        out.extend(first.iter().map(f));
        for h in handles {
            // A panic in a worker is re-raised here, as it would be in a sequential loop.
            match h.join() {
                Ok(part) => out.extend(part),
                Err(p) => std::panic::resume_unwind(p),
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_order_for_small_and_large_inputs() {
        for threads in [1, 2, 3, 8] {
            for n in [0usize, 1, 3, 4, 5, 31, 32, 100, 1000] {
                let items: Vec<usize> = (0..n).collect();
                assert_eq!(
                    super::map(threads, &items, |x| x * 2),
                    items.iter().map(|x| x * 2).collect::<Vec<_>>()
                );
            }
        }
    }

    /// With one thread, every item runs on the calling thread: the switch really is off.
    #[test]
    fn one_thread_never_spawns() {
        let caller = std::thread::current().id();
        let items: Vec<usize> = (0..1000).collect();
        let ran_on = super::map(1, &items, |_| std::thread::current().id());
        assert!(ran_on.iter().all(|id| *id == caller));
        // And with several, the work does leave the calling thread.
        let ran_on = super::map(4, &items, |_| std::thread::current().id());
        assert!(ran_on.iter().any(|id| *id != caller));
    }
}

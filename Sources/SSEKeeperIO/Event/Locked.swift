import Glibc

/// A value guarded by a `pthread_mutex_t`: `withLock` runs a closure with the value, no other thread holding the
/// lock meanwhile. Safe from any thread. Not recursive: `body` must not take the same lock again.
///
/// Why not `Synchronization.Mutex`: on Linux its contended path (`_lockSlow`, `_unlockSlow`, a priority-inheritance
/// futex) lives in the prebuilt Synchronization library, which ThreadSanitizer does not instrument. Two threads that
/// met in such a lock were seen as unordered, and every access under it was reported as a race (issue 16: the
/// several-loop tests run under `--sanitize=thread`). ThreadSanitizer intercepts glibc's mutex, which costs about the
/// same uncontended (a compare-and-swap behind a call), and no lock here is on the per-event path.
final class Locked<Value: Sendable>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    /// Only `withLock` touches it, under the mutex, and `body` may not take this lock again: two accesses can never
    /// overlap, so the runtime's exclusivity check (about 70 instructions per `withLock`, several per new stream) is
    /// off.
    @exclusivity(unchecked) private var value: Value

    init(_ value: Value) {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        self.value = value
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value; returns what it returns.
    func withLock<Result, E: Error>(_ body: (inout Value) throws(E) -> Result) throws(E) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

//! One policy for poisoned locks, everywhere in courier: recover.
//!
//! A lock is poisoned when a thread panicked while holding it. courier holds its locks
//! only to insert, remove or read entries of tables (connections, waiting calls, jobs,
//! watches), each step leaving the table whole, so what a poisoned lock guards is still
//! consistent: taking it anyway keeps a connection serving and its callers answered,
//! where giving up would leave them hanging until their timeouts.

use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Locks `mutex`, poisoned or not.
pub fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Locks `lock` for reading, poisoned or not.
pub fn read<T: ?Sized>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

/// Locks `lock` for writing, poisoned or not.
pub fn write<T: ?Sized>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_poisoned_by_a_panic_still_gives_its_value() {
        let table = std::sync::Arc::new(Mutex::new(vec![1]));
        let poisoner = std::sync::Arc::clone(&table);
        let _ = std::thread::spawn(move || {
            let _held = poisoner.lock();
            panic!("a panic while the lock is held");
        })
        .join();
        assert!(table.is_poisoned());
        lock(&table).push(2);
        assert_eq!(*lock(&table), [1, 2]);
    }
}
